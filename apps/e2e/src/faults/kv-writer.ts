import { createInbox, type NatsConnection, type Subscription } from 'nats';
import { partitionForKey } from '@tessera/contracts';
import { isDefiniteFailure } from './checkers';
import { type History } from './history';

export interface WriterOptions {
  resource: string;
  partitionCount: number;
  /** Partitions written to, in turn. */
  partitions: number[];
  /** Key prefix (keys are unique per put). */
  prefix: string;
  /** One put every this many ms, whatever the replies (open loop): a frozen leader piles them up. */
  intervalMs?: number;
  /** A put with no reply by then is recorded as `info` (indeterminate); a later reply still counts. */
  timeoutMs?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A key of `prefix` that routes to partition p (the leader refuses keys of other partitions). */
export function keyFor(p: number, partitionCount: number, prefix: string): string {
  for (let i = 0; ; i++)
    if (partitionForKey(`${prefix}.${i}`, partitionCount) === p) return `${prefix}.${i}`;
}

/**
 * A kv client that records every put into the history. Requests go out with a reply subject of
 * its own (not the mux inbox of `nc.request`), so every reply is seen, however late and from
 * however many responders — a zombie leader's answer after its client gave up included.
 */
export class KvWriter {
  private nextId = 1;
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inbox = createInbox();
  private sub: Subscription | null = null;
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private readonly replies = new Map<number, number>();
  private readonly keys = new Map<string, { partition: number }>();
  private readonly opts: Required<WriterOptions>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cluster: string,
    private readonly history: History,
    options: WriterOptions,
  ) {
    this.opts = { intervalMs: 25, timeoutMs: 1_000, ...options };
  }

  start(): void {
    this.sub ??= this.nc.subscribe(`${this.inbox}.*`, {
      callback: (_err, msg) => this.onReply(msg.subject, msg.data),
    });
    this.timer ??= setInterval(() => this.putNext(), this.opts.intervalMs);
  }

  /** Stops writing; waits until every put has a reply or has timed out. Late replies still count. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + this.opts.timeoutMs + 500;
    while (this.pending.size > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  }

  /** Stops listening for replies. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.sub?.unsubscribe();
    this.sub = null;
  }

  /** Acknowledged puts so far, optionally of one partition and since a time. */
  acked(partition?: number, since = 0): number {
    const invokes = new Map(this.history.of('invoke').map((i) => [i.id, i]));
    return this.history
      .of('ok')
      .filter(
        (o) =>
          o.t >= since && (partition === undefined || invokes.get(o.id)?.partition === partition),
      ).length;
  }

  private putNext(): void {
    const { resource, partitions, partitionCount, prefix, timeoutMs } = this.opts;
    const partition = partitions[this.turn++ % partitions.length];
    const id = this.nextId++;
    const key = keyFor(partition, partitionCount, `${prefix}-${id}`);
    const value = `v${id}`;
    this.keys.set(key, { partition });
    this.history.add({ type: 'invoke', t: Date.now(), id, resource, partition, key, value });
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        if (!this.replies.has(id))
          this.history.add({ type: 'info', t: Date.now(), id, reason: 'timeout' });
      }, timeoutMs),
    );
    try {
      this.nc.publish(
        `tessera.v1.${this.cluster}.kv.${resource}.${partition}.put`,
        enc.encode(JSON.stringify({ key, value })),
        {
          reply: `${this.inbox}.${id}`,
        },
      );
    } catch {
      // Disconnected: the put never left; its timeout records it as indeterminate.
    }
  }

  private onReply(subject: string, data: Uint8Array): void {
    const id = Number(subject.slice(this.inbox.length + 1));
    if (!Number.isSafeInteger(id)) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(dec.decode(data)) as Record<string, unknown>;
    } catch {
      return;
    }
    const n = (this.replies.get(id) ?? 0) + 1;
    this.replies.set(id, n);
    const timer = this.pending.get(id);
    if (timer) clearTimeout(timer);
    this.pending.delete(id);
    const t = Date.now();
    if (body['ok'] === true) {
      this.history.add({
        type: 'ok',
        t,
        id,
        epoch: String(body['epoch']),
        offset: Number(body['offset']),
        n,
      });
    } else {
      const code = typeof body['code'] === 'string' ? body['code'] : 'UNKNOWN';
      this.history.add({ type: 'fail', t, id, code, definite: isDefiniteFailure(code), n });
    }
  }

  /**
   * After the faults healed: reads every key written (acknowledged or not) from the partition's
   * current leader, retrying while leadership settles, and records what it holds.
   */
  async readBack(deadlineMs = 20_000): Promise<void> {
    const { resource } = this.opts;
    const deadline = Date.now() + deadlineMs;
    const keys = [...this.keys];
    const read = async ([key, { partition }]: [string, { partition: number }]): Promise<void> => {
      for (;;) {
        try {
          const reply = await this.nc.request(
            `tessera.v1.${this.cluster}.kv.${resource}.${partition}.get`,
            enc.encode(JSON.stringify({ key })),
            {
              timeout: 1_000,
            },
          );
          const body = JSON.parse(dec.decode(reply.data)) as Record<string, unknown>;
          if (body['ok'] === true) {
            const value = typeof body['value'] === 'string' ? body['value'] : null;
            this.history.add({
              type: 'read',
              t: Date.now(),
              resource,
              partition,
              key,
              value,
              epoch: String(body['epoch']),
            });
            return;
          }
        } catch {
          // No leader serving yet, or a timeout: try again.
        }
        if (Date.now() > deadline)
          throw new Error(`could not read ${key} back from ${resource}/${partition}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map(read));
  }
}
