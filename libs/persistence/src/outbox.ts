import { randomUUID } from 'node:crypto';
import { type EntityManager } from 'typeorm';

export const OWNING_SCHEMAS = ['coordinator', 'health', 'consensus', 'replication', 'recovery'] as const;
export type OwningSchema = (typeof OWNING_SCHEMAS)[number];

export interface OutboxEvent {
  /** Relative subject, e.g. `events.map` (the relay adds `tessera.v1.<cluster>.`). */
  subject: string;
  payload: Record<string, unknown>;
}

/**
 * Writes events into the schema's outbox inside the caller's transaction (one multi-row
 * INSERT), so the events exist if and only if the change they announce committed.
 * Adds `eventId` and `at` to each payload and returns the stored payloads.
 */
export async function appendToOutbox(
  manager: EntityManager,
  schema: OwningSchema,
  events: OutboxEvent[],
): Promise<Record<string, unknown>[]> {
  if (events.length === 0) return [];
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendToOutbox must run inside a transaction');
  }
  const at = new Date().toISOString();
  const stored = events.map((e) => ({ ...e.payload, eventId: randomUUID(), at }));
  const chunk = 1000;
  for (let i = 0; i < events.length; i += chunk) {
    const slice = events.slice(i, i + chunk);
    await manager.query(
      `INSERT INTO "${schema}".outbox (event_id, subject, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
      [
        slice.map((_, j) => stored[i + j].eventId),
        slice.map((e) => e.subject),
        slice.map((_, j) => JSON.stringify(stored[i + j])),
      ],
    );
  }
  return stored;
}

/**
 * Records an event as processed inside the consumer's transaction. Returns false when it was
 * processed before (at-least-once delivery), in which case the caller skips its effect.
 */
export async function claimInbox(
  manager: EntityManager,
  schema: OwningSchema,
  eventId: string,
): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO "${schema}".inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`,
    [eventId],
  );
  return rows.length === 1;
}
