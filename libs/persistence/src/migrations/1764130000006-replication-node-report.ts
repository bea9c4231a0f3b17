import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Replication writes a replica's row only when its position changes. Freshness moves to one row
 * per node (its last whole report): at 10,000 partitions the nodes' reports every 2 s rewrote
 * 15,000 unchanged rows a second. `held` is false for a replica the node left out of a whole
 * report, whose age then runs from its own last report.
 */
export class ReplicationNodeReport1764130000006 implements MigrationInterface {
  name = 'ReplicationNodeReport1764130000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE replication.replica_progress ADD COLUMN held boolean NOT NULL DEFAULT true`,
    );
    await q.query(
      `CREATE TABLE replication.node_report (
         node_id text PRIMARY KEY,
         reported_at timestamptz NOT NULL
       )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS replication.node_report`);
    await q.query(`ALTER TABLE replication.replica_progress DROP COLUMN IF EXISTS held`);
  }
}
