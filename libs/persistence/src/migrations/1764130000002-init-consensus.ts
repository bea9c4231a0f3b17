import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { outboxAndInboxDdl } from './outbox.sql';

/**
 * Consensus: leader-and-ISR in one row per partition (so an election always sees the ISR it
 * chooses from), compare-and-set on partition_epoch; epoch floors outlive deleted resources so
 * a re-created name never reuses an epoch.
 */
export class InitConsensus1764130000002 implements MigrationInterface {
  name = 'InitConsensus1764130000002';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS consensus`,
      `CREATE TABLE consensus.partition_state (
        resource text NOT NULL,
        partition integer NOT NULL,
        partition_count integer NOT NULL,
        replicas text[] NOT NULL,
        leader text NULL,
        leader_epoch bigint NOT NULL CHECK (leader_epoch >= 0),
        isr text[] NOT NULL,
        partition_epoch bigint NOT NULL CHECK (partition_epoch >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (resource, partition)
      )`,
      `CREATE INDEX ix_consensus_partition_state_leader ON consensus.partition_state (leader)`,
      `CREATE INDEX ix_consensus_partition_state_replicas ON consensus.partition_state USING gin (replicas)`,
      `CREATE TABLE consensus.epoch_floor (
        resource text PRIMARY KEY,
        leader_epoch bigint NOT NULL,
        partition_epoch bigint NOT NULL
      )`,
      ...outboxAndInboxDdl('consensus'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS consensus CASCADE`);
  }
}
