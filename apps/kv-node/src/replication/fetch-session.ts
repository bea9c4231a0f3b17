import {
  type ErrorCode,
  type ReplicaFetchBatchReplyV1,
  type ReplicaFetchBatchRequestV1,
  Subjects,
  TesseraError,
  isErrorReply,
  parseFetchBatchReply,
} from '@tessera/contracts';
import { type CatchUpThrottle, recordBytes } from './catch-up-throttle';
import { type FollowerLogger, type FollowerPartition } from './follower-partition';

export interface FetchSessionOptions {
  nodeId: string;
  leaderId: string;
  /** Sends a request, returns the decoded reply (error replies included); throws on timeout. */
  request(subject: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  logger: FollowerLogger;
  maxRecords: number;
  /** How long the leader may hold a fetch with nothing new. */
  maxWaitMs: number;
  /** Request deadline (longer than maxWaitMs). */
  fetchTimeoutMs: number;
  /** Pause after the leader could not be reached. */
  retryMs: number;
  maxPartitionsPerRequest: number;
  /** A partition that becomes fetchable while a long-poll is out re-issues it after this delay. */
  supersedeDelayMs: number;
  now: () => number;
  /** The node's catch-up copy throttle, shared by all its sessions (absent: unthrottled). */
  throttle?: CatchUpThrottle;
}

type Outcome =
  { kind: 'reply'; value: unknown } | { kind: 'failed'; error: unknown } | { kind: 'superseded' };

/**
 * Bytes of records copied to partitions still behind their leader after this answer: that is
 * catch-up (a new replica, a restarted one). A partition that the answer brings level with the
 * leader's log is replicating live writes, which must never wait.
 */
export function catchUpBytes(
  answers: ReplicaFetchBatchReplyV1['partitions'],
  positions: { fetchOffset: number }[],
): number {
  let bytes = 0;
  answers.forEach((a, i) => {
    const records = a.ok ? (a.records ?? []) : [];
    const from = positions[i]?.fetchOffset ?? 0;
    if (records.length === 0 || a.logEndOffset === undefined) return;
    if (from + records.length < a.logEndOffset) for (const r of records) bytes += recordBytes(r);
  });
  return bytes;
}

/** A refusal summary is logged at most this often per session. */
const REFUSAL_LOG_EVERY_MS = 5_000;

/**
 * A fetch session (Kafka's ReplicaFetcherThread): one loop per leader node that long-polls the
 * leader for every partition this node follows there, in one batched request, and hands each
 * partition's answer to its FollowerPartition. When a partition becomes fetchable while a long-
 * poll is out (it was just added, or its pause after a refusal ended), a new request carrying it
 * supersedes the old one, whose answer is then ignored.
 */
export class FetchSession {
  private readonly partitions = new Map<string, FollowerPartition>();
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private changed = false;
  private wake: (() => void) | null = null;
  private rotation = 0;
  private failures = 0;
  private lastRefusalLog = 0;

  constructor(private readonly options: FetchSessionOptions) {}

  get size(): number {
    return this.partitions.size;
  }

  get(key: string): FollowerPartition | undefined {
    return this.partitions.get(key);
  }

  add(partition: FollowerPartition): void {
    this.partitions.set(partition.key, partition);
    this.running ??= this.run().catch((error: unknown) =>
      this.options.logger.error(
        { nodeId: this.options.nodeId, leader: this.options.leaderId, err: error },
        'fetch session stopped',
      ),
    );
    this.notify();
  }

  /** Something became fetchable (a store finished opening, say). */
  notify(): void {
    this.changed = true;
    this.wake?.();
  }

  /** Stops fetching the partition; resolves once no append or truncation of it is in progress. */
  async remove(key: string): Promise<void> {
    const partition = this.partitions.get(key);
    if (!partition) return;
    this.partitions.delete(key);
    await partition.remove();
  }

  /** Stops the loop (a fetch in flight is not waited for: its answer will be dropped). */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await Promise.all([...this.partitions.values()].map((p) => p.remove()));
    this.partitions.clear();
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      const now = this.options.now();
      const eligible = [...this.partitions.values()].filter((p) => p.eligible(now));
      if (eligible.length === 0) {
        await this.idle(this.nextRetryDelay(now, new Set()) ?? 1_000);
        continue;
      }
      const batch = this.pick(eligible);
      const included = new Set(batch);
      const positions = batch.map((p) => p.position());
      this.changed = false;
      const request: ReplicaFetchBatchRequestV1 = {
        followerId: this.options.nodeId,
        partitions: positions,
        maxRecords: this.options.maxRecords,
        maxWaitMs: this.options.maxWaitMs,
      };
      const outcome = await this.send(request, included);
      if (signal.aborted) return;
      if (outcome.kind === 'superseded') continue;
      if (outcome.kind === 'failed') {
        // The leader is gone, paused or unreachable: keep trying until the roles move us.
        if (this.failures++ % 50 === 0)
          this.options.logger.warn(
            {
              nodeId: this.options.nodeId,
              leader: this.options.leaderId,
              partitions: batch.length,
              code: (outcome.error as { code?: unknown }).code,
              failures: this.failures,
            },
            'fetch from the leader failed; retrying',
          );
        await this.idle(this.options.retryMs, false);
        continue;
      }
      if (this.failures > 0) {
        this.options.logger.info(
          { nodeId: this.options.nodeId, leader: this.options.leaderId, failures: this.failures },
          'fetching again',
        );
        this.failures = 0;
      }
      const answers = this.decode(outcome.value, batch.length);
      if (!answers) {
        await this.idle(this.options.retryMs, false);
        continue;
      }
      this.logRefusals(answers);
      await Promise.all(batch.map((p, i) => p.handle(answers[i], positions[i].fetchOffset)));
      const wait = this.options.throttle?.consume(catchUpBytes(answers, positions), this.options.now()) ?? 0;
      if (wait > 0) await this.idle(wait, false);
    }
  }

  /** At most maxPartitionsPerRequest, rotating so none is starved when there are more. */
  private pick(eligible: FollowerPartition[]): FollowerPartition[] {
    const max = this.options.maxPartitionsPerRequest;
    if (eligible.length <= max) return eligible;
    const start = this.rotation % eligible.length;
    this.rotation += max;
    return [...eligible.slice(start), ...eligible.slice(0, start)].slice(0, max);
  }

  /**
   * Sends the request and waits for its answer — unless a partition left out of it becomes
   * fetchable first, in which case the request is superseded (its answer is dropped).
   */
  private async send(
    request: ReplicaFetchBatchRequestV1,
    included: Set<FollowerPartition>,
  ): Promise<Outcome> {
    const reply = this.options
      .request(Subjects.replica.fetch(this.options.leaderId), request, this.options.fetchTimeoutMs)
      .then(
        (value): Outcome => ({ kind: 'reply', value }),
        (error: unknown): Outcome => ({ kind: 'failed', error }),
      );
    for (;;) {
      const delay = this.nextRetryDelay(this.options.now(), included);
      let timer: NodeJS.Timeout | undefined;
      const woken = new Promise<'woken'>((resolve) => {
        this.wake = () => resolve('woken');
        if (this.changed) resolve('woken');
        if (delay !== null) timer = setTimeout(() => resolve('woken'), delay);
      });
      const first = await Promise.race([reply, woken]);
      clearTimeout(timer);
      this.wake = null;
      if (first !== 'woken') return first;
      if (this.abort.signal.aborted) return { kind: 'superseded' };
      // Let a burst of additions (a role command for many partitions) settle into one request.
      await Promise.race([reply, new Promise((r) => setTimeout(r, this.options.supersedeDelayMs))]);
      const now = this.options.now();
      const waiting = [...this.partitions.values()].some(
        (p) => !included.has(p) && p.eligible(now),
      );
      if (waiting) return { kind: 'superseded' };
      this.changed = false;
    }
  }

  /** Milliseconds until a paused partition outside `included` may be fetched again, or null. */
  private nextRetryDelay(now: number, included: Set<FollowerPartition>): number | null {
    let next: number | null = null;
    for (const p of this.partitions.values()) {
      const at = p.retryingAt;
      if (at > now && !included.has(p)) next = next === null ? at : Math.min(next, at);
    }
    return next === null ? null : Math.max(1, next - now);
  }

  /** Waits `ms`, or less when something changes (unless `interruptible` is false). */
  private async idle(ms: number, interruptible = true): Promise<void> {
    const { signal } = this.abort;
    let done: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      done = resolve;
      timer = setTimeout(resolve, ms);
      if (interruptible) {
        this.wake = resolve;
        if (this.changed) resolve();
      }
      signal.addEventListener('abort', done);
    });
    clearTimeout(timer);
    signal.removeEventListener('abort', done);
    this.wake = null;
    if (interruptible) this.changed = false;
  }

  private decode(value: unknown, expected: number): ReplicaFetchBatchReplyV1['partitions'] | null {
    try {
      if (isErrorReply(value)) throw new TesseraError(value.code, value.message);
      const { ok, ...rest } = (value ?? {}) as { ok?: unknown };
      if (ok !== true) throw new TesseraError('INVALID', 'reply is not ok');
      const reply = parseFetchBatchReply(rest);
      if (reply.partitions.length !== expected)
        throw new TesseraError(
          'INVALID',
          `${reply.partitions.length} answers for ${expected} partitions`,
        );
      return reply.partitions;
    } catch (error) {
      this.options.logger.warn(
        {
          nodeId: this.options.nodeId,
          leader: this.options.leaderId,
          code: error instanceof TesseraError ? error.code : 'INVALID',
          reason: (error as Error).message,
        },
        'refused a fetch reply',
      );
      return null;
    }
  }

  private logRefusals(answers: ReplicaFetchBatchReplyV1['partitions']): void {
    const codes = new Map<ErrorCode, number>();
    for (const a of answers)
      if (!a.ok) codes.set(a.code ?? 'INTERNAL', (codes.get(a.code ?? 'INTERNAL') ?? 0) + 1);
    if (codes.size === 0) return;
    const now = this.options.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLog = now;
    // One refusal's own words: "not our role" and "leadership is being set up" need different fixes.
    const sample = answers.find((a) => !a.ok);
    this.options.logger.warn(
      {
        nodeId: this.options.nodeId,
        leader: this.options.leaderId,
        refused: Object.fromEntries(codes),
        sample: sample && { resource: sample.resource, partition: sample.partition, reason: sample.message },
      },
      'the leader refused fetches for some partitions (roles may be moving)',
    );
  }
}
