import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Recovery: a re-replication waits its grace delay in the table, not in a timer, so a standby
 * that takes over starts it on time and an operator can move it (`PATCH /operations/:id`).
 */
export class RecoveryDueAt1764130000005 implements MigrationInterface {
  name = 'RecoveryDueAt1764130000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE recovery.operation ADD COLUMN due_at timestamptz NULL`);
    await q.query(
      `CREATE INDEX ix_recovery_operation_due ON recovery.operation (due_at) WHERE state IN ('PENDING', 'RUNNING')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS recovery.ix_recovery_operation_due`);
    await q.query(`ALTER TABLE recovery.operation DROP COLUMN IF EXISTS due_at`);
  }
}
