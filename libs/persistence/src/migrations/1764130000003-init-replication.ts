import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { outboxAndInboxDdl } from './outbox.sql';

/** Replication: each replica's reported log position (batched upserts from node reports). */
export class InitReplication1764130000003 implements MigrationInterface {
  name = 'InitReplication1764130000003';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS replication`,
      `CREATE TABLE replication.replica_progress (
        resource text NOT NULL,
        partition integer NOT NULL,
        node_id text NOT NULL,
        role text NOT NULL,
        leader_epoch bigint NOT NULL,
        log_end_offset bigint NOT NULL,
        high_watermark bigint NULL,
        reported_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (resource, partition, node_id)
      )`,
      `CREATE INDEX ix_replication_replica_progress_node ON replication.replica_progress (node_id)`,
      ...outboxAndInboxDdl('replication'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS replication CASCADE`);
  }
}
