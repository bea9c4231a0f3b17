import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The leader epoch each partition was created at. Epochs of a resource name only grow, across
 * deletion and re-creation (the epoch floor), so a record below it on a data node belongs to a
 * deleted predecessor of the same name: the node must not serve it. Rows created before this
 * migration keep 0 (unknown: nodes check nothing).
 */
export class PartitionCreatedEpoch1764130000009 implements MigrationInterface {
  name = 'PartitionCreatedEpoch1764130000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE consensus.partition_state ADD COLUMN created_epoch bigint NOT NULL DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE consensus.partition_state DROP COLUMN created_epoch`);
  }
}
