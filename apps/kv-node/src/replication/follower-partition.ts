import {
  type ErrorCode,
  type ReplicaFetchPartitionReplyV1,
  type ReplicaFetchPartitionV1,
  type RoleAssignmentV1,
  TesseraError,
} from '@tessera/contracts';
import { followerTruncationPoint, partitionKey } from '@tessera/node-agent';
import { type PartitionStore } from '../storage/partition-store';

export interface FollowerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface FollowerPartitionHooks {
  nodeId: string;
  /** The leader says our epoch is old (or keeps refusing us): ask consensus for our roles. */
  onStaleRole(): void;
  /**
   * We reached the leader's log end: the first time (or the first again after leaving the ISR),
   * and every time after while the ISR does not include us.
   */
  onCaughtUp(): void;
  logger: FollowerLogger;
  /** Pause after a refusal or a bad answer before this partition is fetched again. */
  retryMs: number;
  now: () => number;
}

/** Refusals in a row after which the follower asks consensus whether its role is still right. */
export const REFUSALS_BEFORE_RECONCILE = 5;
/** The longest pause between fetches of a partition its leader keeps refusing. */
export const REFUSAL_BACKOFF_MAX_MS = 1_000;

/** Pause after the `refusals`-th refusal in a row: retryMs, doubling, at most REFUSAL_BACKOFF_MAX_MS. */
export function refusalBackoffMs(retryMs: number, refusals: number): number {
  return Math.min(
    retryMs * 2 ** Math.min(Math.max(refusals - 1, 0), 16),
    Math.max(retryMs, REFUSAL_BACKOFF_MAX_MS),
  );
}

/**
 * The follower side of one partition, for one (leader, leader epoch): what to fetch next (its
 * durable log end and the epoch of its last record), and what to do with the leader's answer —
 * append the records durably BEFORE the next fetch (so the fetch offset the leader sees is what
 * this node has on disk), or truncate a divergent suffix when the leader says so. Fetch sessions
 * (one per leader) carry many of these in each request.
 */
export class FollowerPartition {
  readonly key: string;
  readonly leaderId: string;
  readonly epoch: bigint;
  private assignment: RoleAssignmentV1;
  private store: PartitionStore | null = null;
  private removed = false;
  private mutating: Promise<void> | null = null;
  private retryAt = 0;
  private caughtUp = false;
  private refusals = 0;

  constructor(
    assignment: RoleAssignmentV1,
    private readonly hooks: FollowerPartitionHooks,
  ) {
    if (!assignment.leader) throw new TesseraError('INVALID', 'a follower needs a leader');
    this.assignment = assignment;
    this.key = partitionKey(assignment.resource, assignment.partition);
    this.leaderId = assignment.leader;
    this.epoch = BigInt(assignment.leaderEpoch);
  }

  private get context(): object {
    return {
      nodeId: this.hooks.nodeId,
      resource: this.assignment.resource,
      partition: this.assignment.partition,
      epoch: this.assignment.leaderEpoch,
      leader: this.leaderId,
    };
  }

  /** The store is open (replayed): fetching can start. */
  attach(store: PartitionStore): void {
    this.store = store;
  }

  get logEndOffset(): number | undefined {
    return this.store?.logEndOffset;
  }

  /** May go into the next request now. */
  eligible(now: number): boolean {
    return this.store !== null && !this.removed && this.mutating === null && now >= this.retryAt;
  }

  /** When it becomes eligible again after a refusal (0 when it is not waiting). */
  get retryingAt(): number {
    return this.removed || this.store === null ? 0 : this.retryAt;
  }

  /** Same leader and epoch, new ISR or replicas. Leaving the ISR re-arms the caught-up report. */
  update(assignment: RoleAssignmentV1): void {
    this.assignment = assignment;
    if (!assignment.isr.includes(this.hooks.nodeId)) this.caughtUp = false;
  }

  /** What to ask the leader for: everything after our durable log end. */
  position(): ReplicaFetchPartitionV1 {
    const store = this.requireStore();
    const request: ReplicaFetchPartitionV1 = {
      resource: this.assignment.resource,
      partition: this.assignment.partition,
      leaderEpoch: this.assignment.leaderEpoch,
      fetchOffset: store.logEndOffset,
    };
    const last = store.lastEpoch;
    if (last !== null) request.lastFetchedEpoch = last.toString();
    return request;
  }

  /** No more fetching; resolves once no append or truncation of ours is in progress. */
  async remove(): Promise<void> {
    this.removed = true;
    await this.mutating?.catch(() => undefined);
  }

  /**
   * Acts on the leader's answer to a fetch sent from `sentOffset`. Never throws: a failure is
   * logged and the partition pauses before its next fetch.
   */
  handle(answer: ReplicaFetchPartitionReplyV1, sentOffset: number): Promise<void> {
    // Removed (role changed) after the request was sent: the old leader's answer is not ours.
    if (this.removed || this.mutating) return Promise.resolve();
    // Set synchronously with the check above, so remove() either sees it or came first.
    const work = this.apply(answer, sentOffset)
      .catch((error: unknown) => {
        this.hooks.logger.error({ ...this.context, err: error }, 'replication step failed');
        this.pause();
      })
      .finally(() => (this.mutating = null));
    this.mutating = work;
    return work;
  }

  private async apply(answer: ReplicaFetchPartitionReplyV1, sentOffset: number): Promise<void> {
    const store = this.requireStore();
    if (!answer.ok) return this.refused(answer.code ?? 'INTERNAL', answer.message ?? 'refused');
    const { leaderEpoch, highWatermark, logEndOffset, records } = answer;
    if (
      leaderEpoch === undefined ||
      highWatermark === undefined ||
      logEndOffset === undefined ||
      records === undefined
    ) {
      this.hooks.logger.warn(this.context, 'refused an incomplete fetch answer');
      return this.pause();
    }
    if (leaderEpoch !== this.assignment.leaderEpoch)
      return this.refused('STALE_EPOCH', `the leader answered at epoch ${leaderEpoch}`);
    if (store.logEndOffset !== sentOffset) return; // our log moved meanwhile: ask again
    this.refusals = 0;

    if (answer.truncateTo !== undefined) {
      const point = followerTruncationPoint(store.epochs, store.logEndOffset, {
        truncateTo: answer.truncateTo,
        divergingEpoch:
          answer.divergingEpoch === undefined || answer.divergingEpoch === null
            ? null
            : BigInt(answer.divergingEpoch),
      });
      this.hooks.logger.warn(
        { ...this.context, logEndOffset: store.logEndOffset, truncateTo: point },
        'log diverges from the leader; truncating the suffix',
      );
      await store.truncate(point);
      return;
    }

    for (const r of records) {
      if (BigInt(r.epoch) > this.epoch) {
        this.hooks.logger.warn(
          { ...this.context, recordEpoch: r.epoch },
          'refused records from an epoch above the leader’s',
        );
        return this.pause();
      }
    }
    if (records.length > 0 && records[0].offset !== sentOffset) {
      this.hooks.logger.warn(
        { ...this.context, fetchOffset: sentOffset, first: records[0].offset },
        'refused records that do not continue the log',
      );
      return this.pause();
    }
    // Durable before the next fetch: the next fetch offset tells the leader we have them.
    await store.appendReplicated(records);
    if (sentOffset + records.length < logEndOffset) return;
    if (!this.caughtUp) {
      this.caughtUp = true;
      this.hooks.logger.info(
        { ...this.context, logEndOffset: store.logEndOffset, highWatermark },
        'caught up with the leader',
      );
      this.hooks.onCaughtUp();
    } else if (!this.assignment.isr.includes(this.hooks.nodeId)) {
      // Replication admits us by comparing our last report with the leader's last high
      // watermark. Both report on timers of their own: a leader that always reports just after
      // us shows a watermark we have not fetched yet whenever writes flow, and keeps us out for
      // as long as that lasts (tens of seconds seen). So, until we are in, every time we reach
      // its log end we ask for a report (coalesced by the node agent).
      this.hooks.onCaughtUp();
    }
  }

  private refused(code: ErrorCode, message: string): void {
    this.refusals++;
    // Backs off while refusals last: a leader still setting up thousands of partitions was
    // asked about each of them every retryMs by every follower, and answering slowed the set-up.
    this.pause(refusalBackoffMs(this.hooks.retryMs, this.refusals));
    if (code === 'STALE_EPOCH') {
      this.hooks.logger.info(
        { ...this.context, code, reason: message, refusals: this.refusals },
        'the leader has a newer epoch; reconciling roles',
      );
      this.hooks.onStaleRole();
    } else if (this.refusals % REFUSALS_BEFORE_RECONCILE === 0) {
      // NOT_LEADER / FENCED / FORBIDDEN for a while: the roles may have moved without us.
      this.hooks.logger.debug(
        { ...this.context, code, reason: message, refusals: this.refusals },
        'the leader keeps refusing fetches; reconciling roles',
      );
      this.hooks.onStaleRole();
    }
  }

  private pause(ms = this.hooks.retryMs): void {
    this.retryAt = this.hooks.now() + ms;
  }

  private requireStore(): PartitionStore {
    if (!this.store) throw new TesseraError('UNAVAILABLE', `${this.key} is not open yet`);
    return this.store;
  }
}
