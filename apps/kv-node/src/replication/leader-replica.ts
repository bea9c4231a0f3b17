import { type ReplicaFetchReplyV1, type RoleAssignmentV1, TesseraError } from '@tessera/contracts';
import {
  AckWaiters,
  HighWatermarkTracker,
  checkDivergence,
  unconfirmedWrite,
} from '@tessera/node-agent';
import { type LogRecord, type PartitionStore, type StoredValue } from '../storage/partition-store';

export interface LeaderReplicaOptions {
  nodeId: string;
  /** KV_MIN_ISR: capped at the partition's replica count. */
  minIsr: number;
  ackTimeoutMs: number;
  /** How long a caught-up replica outside the ISR still counts toward acks (HighWatermarkTracker). */
  catchUpGraceMs: number;
  /** Monotonic clock (ms). */
  clock: () => number;
  /** The node's guard (role, epoch, lease), checked again right before a put is acknowledged. */
  stillServing: () => boolean;
}

export interface FetchInput {
  followerId: string;
  fetchOffset: number;
  lastFetchedEpoch: bigint | null;
}

/**
 * The leader side of one partition at one leader epoch. Puts are appended durably to the local
 * log and acknowledged only when the high watermark (the smallest durable position among the
 * leader and every ISR member, learnt from their fetches) has passed them. Gets read the
 * committed index, and only once the high watermark has reached the log end at which this epoch
 * began: records inherited from earlier epochs are then on every ISR member too, and none that
 * a failed put left behind can show up later without being committed.
 */
export class LeaderReplica {
  readonly epoch: bigint;
  readonly epochText: string;
  /** Log end offset when this epoch began. */
  readonly epochStart: number;
  private assignment: RoleAssignmentV1;
  private readonly tracker: HighWatermarkTracker;
  private readonly acks = new AckWaiters();
  private readonly appendListeners = new Set<() => void>();
  private readonly readableWaiters = new Set<(readable: boolean) => void>();
  private closed = false;

  constructor(
    private readonly store: PartitionStore,
    assignment: RoleAssignmentV1,
    private readonly options: LeaderReplicaOptions,
  ) {
    this.assignment = assignment;
    this.epochText = assignment.leaderEpoch;
    this.epoch = BigInt(assignment.leaderEpoch);
    // A new epoch starts at the log end: nothing of its own log is truncated.
    store.commitAll();
    this.epochStart = store.logEndOffset;
    this.tracker = new HighWatermarkTracker({
      leaderId: options.nodeId,
      isr: assignment.isr,
      replicas: assignment.replicas,
      leaderLogEnd: store.logEndOffset,
      catchUpGraceMs: options.catchUpGraceMs,
      now: options.clock,
    });
    this.afterProgress();
  }

  get highWatermark(): number {
    return this.tracker.highWatermark;
  }

  get isr(): readonly string[] {
    return this.assignment.isr;
  }

  /** Reads are served once everything inherited at the start of the epoch is committed. */
  get readable(): boolean {
    return this.tracker.highWatermark >= this.epochStart;
  }

  /** The fewest in-sync replicas a put needs. */
  get minIsr(): number {
    return Math.max(1, Math.min(this.options.minIsr, this.assignment.replicas.length));
  }

  /** Same epoch, new ISR or replica list (consensus changed it). */
  update(assignment: RoleAssignmentV1): void {
    if (assignment.leaderEpoch !== this.epochText) return;
    this.assignment = assignment;
    this.tracker.setMembers(assignment.isr, assignment.replicas);
    if (assignment.isr.length < this.minIsr) {
      this.acks.failAll(() =>
        unconfirmedWrite(
          'NOT_ENOUGH_REPLICAS',
          `the ISR shrank to ${assignment.isr.length} below the minimum ${this.minIsr}`,
        ),
      );
    }
    this.afterProgress();
  }

  /**
   * Appends a put and resolves once every ISR member has it durably. Refused before anything is
   * written with NOT_ENOUGH_REPLICAS when the ISR is below the minimum; after the append, any
   * failure (deadline, ISR shrink, leadership or lease lost) is an unknown outcome.
   */
  async put(key: string, value: string): Promise<LogRecord> {
    this.admit();
    const record = await this.store.append(this.epochText, key, value);
    if (this.closed) throw unconfirmedWrite('TIMEOUT', 'leadership ended before the ISR confirmed');
    this.tracker.leaderAppended(this.store.logEndOffset);
    this.afterProgress();
    this.wakeFetchers();
    if (this.tracker.highWatermark <= record.offset) {
      await this.acks.wait(record.offset, this.options.ackTimeoutMs, () =>
        unconfirmedWrite(
          'TIMEOUT',
          `not every ISR member (${this.assignment.isr.join(', ')}) confirmed offset ${record.offset} within ${this.options.ackTimeoutMs} ms`,
        ),
      );
    }
    // Committed on every ISR member; but a leader whose lease lapsed meanwhile must not speak.
    if (!this.options.stillServing())
      throw unconfirmedWrite(
        'TIMEOUT',
        'leadership or the leader lease was lost before the acknowledgement',
      );
    return record;
  }

  /** The committed value of a key (callers wait for `awaitReadable` first). */
  read(key: string): StoredValue | null {
    return this.store.get(key);
  }

  /** Resolves once the partition is readable; UNAVAILABLE after `timeoutMs`. */
  async awaitReadable(timeoutMs: number): Promise<void> {
    if (this.readable) return;
    const readable = await new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.readableWaiters.delete(done);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.readableWaiters.add(done);
    });
    if (!readable) {
      throw new TesseraError(
        'UNAVAILABLE',
        `${this.store.resource}/${this.store.partition} is catching up: the ISR has not confirmed offset ${this.epochStart} of epoch ${this.epochText} yet`,
      );
    }
  }

  /**
   * First step of serving a follower's fetch (epochs already checked by the caller): a
   * divergence answer when its log does not agree with ours, else null — and its fetch offset,
   * its durable position, is recorded (which may move the high watermark).
   */
  beginFetch(input: FetchInput): ReplicaFetchReplyV1 | null {
    if (input.followerId === this.options.nodeId || !this.tracker.isMember(input.followerId)) {
      throw new TesseraError(
        'FORBIDDEN',
        `${input.followerId} is not a follower of ${this.store.resource}/${this.store.partition} at epoch ${this.epochText}`,
      );
    }
    const divergence = checkDivergence(
      this.store.epochs,
      this.store.logEndOffset,
      input.fetchOffset,
      input.lastFetchedEpoch,
    );
    if (divergence) {
      return {
        leaderEpoch: this.epochText,
        highWatermark: this.tracker.highWatermark,
        logEndOffset: this.store.logEndOffset,
        records: [],
        truncateTo: divergence.truncateTo,
        divergingEpoch: divergence.divergingEpoch?.toString() ?? null,
      };
    }
    this.tracker.followerFetched(input.followerId, input.fetchOffset);
    this.afterProgress();
    return null;
  }

  /** True when records beyond `fetchOffset` can be sent now (or the leadership ended). */
  hasNews(fetchOffset: number): boolean {
    return this.closed || fetchOffset < this.store.logEndOffset;
  }

  /** Calls `listener` once, at the next append (or when leadership ends); returns a canceller. */
  onNextAppend(listener: () => void): () => void {
    const once = () => {
      this.appendListeners.delete(once);
      listener();
    };
    this.appendListeners.add(once);
    return () => this.appendListeners.delete(once);
  }

  /** Last step of a fetch: records from `fetchOffset` on, within the budgets. */
  async readFrom(
    fetchOffset: number,
    maxRecords: number,
    maxBytes: number,
  ): Promise<ReplicaFetchReplyV1> {
    const records =
      this.closed || maxBytes <= 0 ? [] : await this.store.read(fetchOffset, maxRecords, maxBytes);
    return {
      leaderEpoch: this.epochText,
      highWatermark: this.tracker.highWatermark,
      logEndOffset: this.store.logEndOffset,
      records,
    };
  }

  /** Periodic: a caught-up replica's grace may have run out, which can move the high watermark. */
  tick(): void {
    // Fetches recompute on their own; only a waiting put or get can be stuck on a silent member.
    if (this.closed || (this.acks.size === 0 && this.readableWaiters.size === 0)) return;
    this.tracker.recompute();
    this.afterProgress();
  }

  get pendingAcks(): number {
    return this.acks.size;
  }

  /** Leadership ended: waiting puts fail with an unknown outcome, parked fetches return. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.acks.failAll(() =>
      unconfirmedWrite('TIMEOUT', 'leadership ended before every ISR member confirmed'),
    );
    this.wakeFetchers();
    for (const done of [...this.readableWaiters]) done(false);
  }

  private admit(): void {
    if (this.closed)
      throw new TesseraError('NOT_LEADER', `no longer leading at epoch ${this.epochText}`);
    const isr = this.assignment.isr.length;
    if (isr < this.minIsr) {
      throw new TesseraError(
        'NOT_ENOUGH_REPLICAS',
        `the ISR of ${this.store.resource}/${this.store.partition} has ${isr} member(s), below the minimum ${this.minIsr}; nothing was written`,
      );
    }
  }

  private afterProgress(): void {
    const hw = this.tracker.highWatermark;
    this.store.commitTo(hw);
    this.acks.release(hw);
    if (this.readable) for (const done of [...this.readableWaiters]) done(true);
  }

  private wakeFetchers(): void {
    for (const listener of [...this.appendListeners]) listener();
  }
}
