import { randomUUID } from 'node:crypto';
import { type EntityManager } from 'typeorm';

export const OWNING_SCHEMAS = ['coordinator', 'health', 'consensus', 'replication', 'recovery'] as const;
export type OwningSchema = (typeof OWNING_SCHEMAS)[number];

export interface OutboxEvent {
  /** Relative subject, e.g. `events.map` (the relay adds `tessera.v1.<cluster>.`). */
  subject: string;
  payload: Record<string, unknown>;
}

/** The subject of an outbox row holding a batch: its payload is an array of OutboxEvent. */
export const OUTBOX_BATCH_SUBJECT = 'batch';

/** How long a batch row stays reserved for its direct publisher before relay passes may take it. */
export const DIRECT_PUBLISH_CLAIM_MS = 10_000;

/** Events written as one outbox row and reserved for publishing right after the commit. */
export interface OutboxBatch {
  /** The row's event id (each event also has its own `eventId`, the JetStream dedupe id). */
  rowId: string;
  /** The stored events, in order, with `eventId` and `at` added. */
  events: OutboxEvent[];
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
 * Writes events as ONE outbox row inside the caller's transaction, reserved for publishing straight
 * after the commit (OutboxRelay.publishCommitted) for DIRECT_PUBLISH_CLAIM_MS. Hot paths use it: a
 * failover's 1,000 leader events were 1,000 rows to insert, claim after the commit and mark, and
 * a claim transaction before the first could go out. A publisher that dies leaves the row to relay
 * passes once the reservation lapses. Returns null for no events.
 */
export async function appendBatchToOutbox(
  manager: EntityManager,
  schema: OwningSchema,
  events: OutboxEvent[],
): Promise<OutboxBatch | null> {
  if (events.length === 0) return null;
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('appendBatchToOutbox must run inside a transaction');
  }
  const at = new Date().toISOString();
  const stored = events.map((e) => ({ subject: e.subject, payload: { ...e.payload, eventId: randomUUID(), at } }));
  const rowId = randomUUID();
  await manager.query(
    `INSERT INTO "${schema}".outbox (event_id, subject, payload, claimed_until)
     VALUES ($1, $2, $3::jsonb, now() + ($4::text || ' milliseconds')::interval)`,
    [rowId, OUTBOX_BATCH_SUBJECT, JSON.stringify(stored), String(DIRECT_PUBLISH_CLAIM_MS)],
  );
  return { rowId, events: stored };
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
