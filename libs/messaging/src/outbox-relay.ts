import { type DataSource } from 'typeorm';
import { OUTBOX_BATCH_SUBJECT, type OutboxBatch, type OutboxEvent, type OwningSchema } from '@tessera/persistence';
import { type NetworkLogger, type NetworkManager, silentLogger } from './network-manager';

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  payload: unknown;
}

/** A row's events: itself, or the events of a batch row (appendBatchToOutbox). */
function eventsOf(row: OutboxRow): OutboxEvent[] {
  if (row.subject === OUTBOX_BATCH_SUBJECT && Array.isArray(row.payload)) return row.payload as OutboxEvent[];
  return [{ subject: row.subject, payload: row.payload as Record<string, unknown> }];
}

function eventIdOf(e: OutboxEvent): string {
  return String(e.payload['eventId']);
}

export interface OutboxRelayOptions {
  /** Poll period when nobody kicks the relay (another instance may have written). */
  pollMs?: number;
  batchSize?: number;
  /** Published rows are kept this long for inspection, then deleted. */
  retainMs?: number;
  /** Called as each event is handed to NATS, with how long after its `at` (the outbox delay). */
  onPublish?: (delayMs: number, subject: string) => void;
}

/**
 * Relays a schema's outbox to JetStream: rows are claimed with FOR UPDATE SKIP LOCKED (so
 * several instances can relay), published with the event id as dedupe id, and marked published
 * in the same transaction only after JetStream acked. At-least-once: a crash between the ack
 * and the commit republishes, and JetStream's duplicate window (or the consumer's inbox) drops it.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = true;
  private lastCleanup = 0;
  private published = 0;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: OwningSchema,
    private readonly network: NetworkManager,
    private readonly log: NetworkLogger = silentLogger,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  get stats(): { published: number; failures: number } {
    return { published: this.published, failures: this.failures };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  /** Asks for a relay pass now (call after committing a transaction that wrote events). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Publishes a batch whose transaction has just committed (appendBatchToOutbox reserved its row
   * for this call), then marks the row published: no relay pass touches the row meanwhile, so
   * the first event goes out at once, with no claim transaction in front of it. The outbox stays
   * the guarantee: on failure (NATS down) the reservation is dropped and a pass publishes the
   * row; if this process dies, a pass takes the row when the reservation lapses. An event may
   * go out twice: JetStream drops the copy by event id, and core subscribers order by version
   * and epoch anyway. Never throws.
   */
  async publishCommitted(batch: OutboxBatch | null): Promise<void> {
    if (this.stopped || batch === null) return;
    try {
      await this.send(batch.events);
      await this.dataSource.query(
        `UPDATE "${this.schema}".outbox SET published_at = now() WHERE event_id = $1 AND published_at IS NULL`,
        [batch.rowId],
      );
      this.published += batch.events.length;
    } catch (error) {
      this.failures++;
      this.log.warn({ err: error, schema: this.schema }, 'direct publish failed; the relay retries');
      await this.dataSource
        .query(`UPDATE "${this.schema}".outbox SET claimed_until = NULL WHERE event_id = $1 AND published_at IS NULL`, [
          batch.rowId,
        ])
        .catch(() => undefined); // the reservation lapses on its own
      this.kick();
    }
  }

  /** Rows not yet published (the outbox backlog metric). */
  async backlog(): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS n FROM "${this.schema}".outbox WHERE published_at IS NULL`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
  }

  private async pass(): Promise<void> {
    this.timer = null;
    if (this.running || this.stopped) return;
    this.running = true;
    let more = false;
    try {
      more = await this.relayBatch();
      await this.cleanup();
    } catch (error) {
      this.failures++;
      this.log.warn({ err: error, schema: this.schema }, 'outbox relay pass failed; retrying');
    } finally {
      this.running = false;
    }
    const again = more || this.again;
    this.again = false;
    this.schedule(again ? 0 : (this.options.pollMs ?? 500));
  }

  /** Returns true when a full batch went out (there may be more). */
  private async relayBatch(): Promise<boolean> {
    const batchSize = this.options.batchSize ?? 1000;
    return this.dataSource.transaction(async (manager) => {
      // Rows reserved for a direct publisher are left to it until the reservation lapses.
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, event_id, subject, payload FROM "${this.schema}".outbox
          WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return false;
      // Published concurrently (one connection keeps send order); a row is done when all its
      // events are. A failed one is retried on the next pass, so consumers order by
      // version/epoch, never by arrival.
      const results = await Promise.all(
        rows.map(async (row) => {
          const events = eventsOf(row);
          try {
            await this.send(events);
            return { row, ok: true, events: events.length };
          } catch (error) {
            this.failures++;
            this.log.warn({ err: error, subject: row.subject }, 'event publish failed; will retry');
            return { row, ok: false, events: events.length };
          }
        }),
      );
      const done = results.filter((r) => r.ok);
      if (done.length > 0) {
        await manager.query(
          `UPDATE "${this.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`,
          [done.map((r) => r.row.id)],
        );
        this.published += done.reduce((n, r) => n + r.events, 0);
      }
      return done.length === rows.length && rows.length === batchSize;
    });
  }

  /** One row's events, in order; resolves when the stream has them all (NetworkManager.publishEvents). */
  private send(events: OutboxEvent[]): Promise<void> {
    const onPublish = this.options.onPublish;
    if (onPublish) {
      const now = Date.now();
      for (const e of events) {
        const at = typeof e.payload['at'] === 'string' ? Date.parse(e.payload['at']) : Number.NaN;
        if (!Number.isNaN(at)) onPublish(now - at, e.subject);
      }
    }
    return this.network.publishEvents(events.map((e) => ({ subject: e.subject, payload: e.payload, eventId: eventIdOf(e) })));
  }

  private async cleanup(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 60_000) return;
    this.lastCleanup = now;
    const retainMs = this.options.retainMs ?? 3_600_000;
    await this.dataSource.query(
      `DELETE FROM "${this.schema}".outbox WHERE published_at < now() - ($1::text || ' milliseconds')::interval`,
      [String(retainMs)],
    );
    await this.dataSource.query(
      `DELETE FROM "${this.schema}".inbox WHERE processed_at < now() - interval '7 days'`,
    );
  }
}
