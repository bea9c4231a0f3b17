import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { leaseDdl, outboxAndInboxDdl } from './outbox.sql';

/** Recovery: every operation persisted with its steps, so a standby can resume it. */
export class InitRecovery1764130000004 implements MigrationInterface {
  name = 'InitRecovery1764130000004';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS recovery`,
      `CREATE TABLE recovery.operation (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        state text NOT NULL CHECK (state IN ('PENDING','RUNNING','SUCCEEDED','FAILED','CANCELLED')),
        node_id text NOT NULL,
        done integer NOT NULL DEFAULT 0,
        total integer NOT NULL DEFAULT 0,
        steps jsonb NOT NULL DEFAULT '[]',
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz NULL,
        error text NULL
      )`,
      `CREATE INDEX ix_recovery_operation_state ON recovery.operation (state)`,
      ...outboxAndInboxDdl('recovery'),
      ...leaseDdl('recovery'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS recovery CASCADE`);
  }
}
