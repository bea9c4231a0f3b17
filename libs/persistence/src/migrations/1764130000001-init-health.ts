import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { outboxAndInboxDdl } from './outbox.sql';

/** Health: node liveness, written once per state change (heartbeats never touch Postgres). */
export class InitHealth1764130000001 implements MigrationInterface {
  name = 'InitHealth1764130000001';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS health`,
      `CREATE TABLE health.node_liveness (
        node_id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('ALIVE','SUSPECT','DEAD')),
        incarnation bigint NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`,
      ...outboxAndInboxDdl('health'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS health CASCADE`);
  }
}
