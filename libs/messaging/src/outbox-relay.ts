import { type DataSource } from 'typeorm';
import { type OwningSchema } from '@tessera/persistence';
import { type NetworkLogger, type NetworkManager, silentLogger } from './network-manager';

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  payload: unknown;
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

/** An event as appendToOutbox stored it: its relative subject and its payload (eventId, at…). */
export interface CommittedEvent {
  subject: string;
  payload: Record<string, unknown>;
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
   * Publishes events whose transaction has just committed, at once, instead of waiting for a
   * relay pass (a kick waits for the pass in flight: its acks, update and commit), then marks
   * them published. The outbox stays the guarantee: a row this misses (NATS down, a crash before
   * the mark) is published by a later pass, and one a pass claimed meanwhile is left to it, so an
   * event may go out twice — JetStream drops the copy by event id, and core subscribers order by
   * version and epoch anyway. Never throws: on failure it kicks a pass.
   */
  async publishCommitted(events: CommittedEvent[]): Promise<void> {
    if (this.stopped || events.length === 0) return;
    try {
      const ids = events.map((e) => String(e.payload['eventId']));
      await this.dataSource.transaction(async (m) => {
        // Claim the rows first (as a relay pass does): a pass running now skips them, and rows a
        // pass already holds are left to it, so neither path sends an event the other sent.
        const rows: { id: string; event_id: string }[] = await m.query(
          `SELECT id, event_id FROM "${this.schema}".outbox
            WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`,
          [ids],
        );
        if (rows.length === 0) return;
        const claimed = new Set(rows.map((r) => r.event_id));
        // Sent in order on the one connection; only the acks are awaited together.
        await Promise.all(
          events.flatMap((e, i) => (claimed.has(ids[i] ?? '') ? [this.publish(e.subject, e.payload, ids[i] ?? '')] : [])),
        );
        await m.query(`UPDATE "${this.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
          rows.map((r) => r.id),
        ]);
        this.published += rows.length;
      });
    } catch (error) {
      this.failures++;
      this.log.warn({ err: error, schema: this.schema }, 'direct publish failed; the relay retries');
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
      const rows: OutboxRow[] = await manager.query(
        `SELECT id, event_id, subject, payload FROM "${this.schema}".outbox
          WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return false;
      // Published concurrently (one connection keeps send order); a failed one is retried on
      // the next pass, so consumers order by version/epoch, never by arrival.
      const results = await Promise.allSettled(
        rows.map((row) => this.publish(row.subject, row.payload, row.event_id)),
      );
      const done: string[] = [];
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') done.push(rows[i].id);
        else {
          this.failures++;
          this.log.warn({ err: result.reason, subject: rows[i].subject }, 'event publish failed; will retry');
        }
      });
      if (done.length > 0) {
        await manager.query(
          `UPDATE "${this.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`,
          [done],
        );
        this.published += done.length;
      }
      return done.length === rows.length && rows.length === batchSize;
    });
  }

  private publish(subject: string, payload: unknown, eventId: string): Promise<void> {
    const p = payload as { at?: unknown } | null;
    if (this.options.onPublish && typeof p?.at === 'string') {
      const at = Date.parse(p.at);
      if (!Number.isNaN(at)) this.options.onPublish(Date.now() - at, subject);
    }
    return this.network.publishEvent(subject, payload, eventId);
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
