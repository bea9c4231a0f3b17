import { TesseraError } from '@tessera/contracts';

export interface HighWatermarkOptions {
  /** The leader itself (always counted, through `leaderLogEnd`). */
  leaderId: string;
  isr: readonly string[];
  replicas: readonly string[];
  /** The leader's durable log end offset. */
  leaderLogEnd: number;
  /** Where the high watermark starts (it never goes back). */
  highWatermark?: number;
  /**
   * A follower outside the ISR that has caught up (fetched at or past the high watermark) keeps
   * counting toward acks for this long after its last caught-up fetch. It closes the window in
   * which consensus has already added it to the ISR but this leader has not heard yet (Kafka's
   * "maximal ISR" during an expansion): an acknowledged write is then on it too.
   */
  catchUpGraceMs: number;
  /** Monotonic clock (ms). */
  now: () => number;
}

interface FollowerPosition {
  /** The follower's durable log end offset, from its latest fetch at this epoch. */
  offset: number;
  /** When it last fetched at or past the high watermark. */
  caughtUpAt: number | null;
}

/**
 * The leader's view of its followers for one leader epoch: each follower's durable position (the
 * offset of its latest fetch) and the high watermark = the smallest position among the leader
 * and every member of the ack set (the ISR plus recently caught-up replicas). Offsets below the
 * high watermark are on every ISR member: they are committed, may be acknowledged and read.
 * A member that has not fetched yet at this epoch holds the high watermark where it is.
 */
export class HighWatermarkTracker {
  private isr: Set<string>;
  private replicas: Set<string>;
  private readonly followers = new Map<string, FollowerPosition>();
  private hw: number;
  private logEnd: number;

  constructor(private readonly options: HighWatermarkOptions) {
    this.isr = new Set(options.isr);
    this.replicas = new Set(options.replicas);
    this.logEnd = options.leaderLogEnd;
    this.hw = Math.min(options.highWatermark ?? 0, options.leaderLogEnd);
    this.recompute();
  }

  get highWatermark(): number {
    return this.hw;
  }

  get leaderLogEnd(): number {
    return this.logEnd;
  }

  /** The latest position a follower fetched from, undefined if it has not fetched at this epoch. */
  positionOf(followerId: string): number | undefined {
    return this.followers.get(followerId)?.offset;
  }

  isMember(followerId: string): boolean {
    return this.replicas.has(followerId);
  }

  /** Members whose position the high watermark waits for (the leader excluded). */
  ackSet(): string[] {
    const now = this.options.now();
    const members: string[] = [];
    for (const id of this.replicas) {
      if (id === this.options.leaderId) continue;
      if (this.isr.has(id)) {
        members.push(id);
        continue;
      }
      const f = this.followers.get(id);
      if (f?.caughtUpAt != null && now - f.caughtUpAt <= this.options.catchUpGraceMs)
        members.push(id);
    }
    for (const id of this.isr)
      if (id !== this.options.leaderId && !this.replicas.has(id)) members.push(id);
    return members;
  }

  /** The ISR or replica list changed (same epoch). Returns the high watermark. */
  setMembers(isr: readonly string[], replicas: readonly string[]): number {
    this.isr = new Set(isr);
    this.replicas = new Set(replicas);
    for (const id of [...this.followers.keys()])
      if (!this.replicas.has(id) && !this.isr.has(id)) this.followers.delete(id);
    return this.recompute();
  }

  /** The leader's own log grew (durably). Returns the high watermark. */
  leaderAppended(logEnd: number): number {
    this.logEnd = Math.max(this.logEnd, logEnd);
    return this.recompute();
  }

  /** A follower fetched from `offset` (it has everything below durably). Returns the high watermark. */
  followerFetched(followerId: string, offset: number): number {
    const previous = this.followers.get(followerId);
    const caughtUp = offset >= this.hw;
    this.followers.set(followerId, {
      offset: Math.min(offset, this.logEnd),
      caughtUpAt: caughtUp ? this.options.now() : (previous?.caughtUpAt ?? null),
    });
    return this.recompute();
  }

  /** Recomputes (time matters: a caught-up non-ISR follower's grace runs out). */
  recompute(): number {
    let candidate = this.logEnd;
    for (const id of this.ackSet()) {
      const f = this.followers.get(id);
      if (f === undefined) return this.hw; // an ISR member we have not heard from at this epoch
      candidate = Math.min(candidate, f.offset);
    }
    if (candidate > this.hw) this.hw = candidate;
    return this.hw;
  }
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Puts waiting for their offset to be committed (high watermark past it), each with a deadline. */
export class AckWaiters {
  private waiters: Waiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves once `release(hw)` is called with hw > offset; rejects with `onTimeout()` after `timeoutMs`. */
  wait(offset: number, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves every waiter whose offset is below the high watermark. */
  release(highWatermark: number): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.offset < highWatermark) {
        clearTimeout(w.timer);
        w.resolve();
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Rejects every waiter (leadership lost, ISR too small, shutdown). */
  failAll(error: () => Error): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) {
      clearTimeout(w.timer);
      w.reject(error());
    }
  }
}

/** The error a put gets when it was appended but not confirmed: its outcome is unknown. */
export function unconfirmedWrite(
  code: 'TIMEOUT' | 'NOT_ENOUGH_REPLICAS',
  why: string,
): TesseraError {
  return new TesseraError(
    code,
    `${why}; the write was appended but not acknowledged: it may or may not survive`,
  );
}
