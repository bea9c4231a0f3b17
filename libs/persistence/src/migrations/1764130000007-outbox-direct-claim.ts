import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { OWNING_SCHEMAS } from '../outbox';

/**
 * An outbox row can be reserved for the process that wrote it (`claimed_until`): it publishes the
 * row's events straight after its commit, and relay passes leave the row alone until the
 * reservation lapses. Rows can hold a batch of events (subject `batch`, payload an array).
 */
export class OutboxDirectClaim1764130000007 implements MigrationInterface {
  name = 'OutboxDirectClaim1764130000007';

  async up(q: QueryRunner): Promise<void> {
    for (const schema of OWNING_SCHEMAS) {
      await q.query(`ALTER TABLE "${schema}".outbox ADD COLUMN claimed_until timestamptz NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const schema of OWNING_SCHEMAS) {
      await q.query(`ALTER TABLE "${schema}".outbox DROP COLUMN IF EXISTS claimed_until`);
    }
  }
}
