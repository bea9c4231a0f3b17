/** Where an epoch's records start in a log. */
export interface EpochStart {
  epoch: bigint;
  startOffset: number;
}

/** The end of an epoch in a log (Kafka's OffsetsForLeaderEpoch answer). */
export interface EpochEnd {
  /** The largest epoch ≤ the one asked for that the log holds records of; null when none. */
  epoch: bigint | null;
  /** The offset right after that epoch's last record (where the next epoch starts, or the log end). */
  endOffset: number;
}

/**
 * The leader epoch cache of a partition log: for every epoch that wrote records, the offset of its
 * first record. Rebuilt from the log on open (every record carries its epoch), so it never needs
 * a file of its own. Epochs never decrease along the log.
 */
export class LeaderEpochCache {
  private readonly starts: EpochStart[] = [];

  /** Every entry, oldest first. */
  entries(): readonly EpochStart[] {
    return this.starts;
  }

  /** Epoch of the log's last record, null for an empty log. */
  latestEpoch(): bigint | null {
    return this.starts.length === 0 ? null : this.starts[this.starts.length - 1].epoch;
  }

  /**
   * Notes that the record at `offset` was written under `epoch`; call it for every appended
   * record, in offset order. Throws when the epoch goes backwards (a corrupt or forged log).
   */
  assign(epoch: bigint, offset: number): void {
    const last = this.starts[this.starts.length - 1];
    if (last !== undefined) {
      if (epoch === last.epoch) return;
      if (epoch < last.epoch)
        throw new RangeError(`epoch ${epoch} at offset ${offset} is below ${last.epoch}`);
      if (offset < last.startOffset)
        throw new RangeError(`offset ${offset} is below ${last.startOffset}`);
    }
    this.starts.push({ epoch, startOffset: offset });
  }

  /** Forgets the epochs of records at `offset` and beyond (the log was truncated there). */
  truncateFrom(offset: number): void {
    while (this.starts.length > 0 && this.starts[this.starts.length - 1].startOffset >= offset)
      this.starts.pop();
  }

  clear(): void {
    this.starts.length = 0;
  }

  /**
   * The end offset of the largest epoch ≤ `epoch` in a log ending at `logEnd`: the start of the
   * next larger epoch, or `logEnd` when it is the last one.
   */
  endOffsetFor(epoch: bigint, logEnd: number): EpochEnd {
    let i = this.starts.length - 1;
    while (i >= 0 && this.starts[i].epoch > epoch) i--;
    if (i < 0) return { epoch: null, endOffset: 0 };
    const next = this.starts[i + 1];
    return { epoch: this.starts[i].epoch, endOffset: next ? next.startOffset : logEnd };
  }
}

/** A follower's log does not agree with the leader's beyond `truncateTo`. */
export interface Divergence {
  truncateTo: number;
  divergingEpoch: bigint | null;
}

/**
 * Leader side of the fetch check (Kafka KIP-320): the follower's log ends at `fetchOffset` with a
 * record of `lastFetchedEpoch`. It agrees with the leader's log when the leader holds that very
 * epoch and the epoch does not end before `fetchOffset`. Otherwise the answer says where the
 * leader's largest epoch ≤ `lastFetchedEpoch` ends (capped at `fetchOffset`).
 */
export function checkDivergence(
  leader: LeaderEpochCache,
  leaderLogEnd: number,
  fetchOffset: number,
  lastFetchedEpoch: bigint | null,
): Divergence | null {
  if (fetchOffset === 0) return null; // an empty log agrees with everything
  if (lastFetchedEpoch === null) return { truncateTo: 0, divergingEpoch: null };
  const end = leader.endOffsetFor(lastFetchedEpoch, leaderLogEnd);
  if (end.epoch === lastFetchedEpoch && end.endOffset >= fetchOffset) return null;
  return { truncateTo: Math.min(end.endOffset, fetchOffset), divergingEpoch: end.epoch };
}

/**
 * Follower side: where to cut its own log after the leader reported a divergence. Records of
 * epochs ≤ `divergingEpoch` match the leader's up to the end of that epoch in both logs (one
 * leader per epoch), so the follower keeps min(leader's end, own end) and asks again; repeated
 * rounds converge on the longest common prefix.
 */
export function followerTruncationPoint(
  follower: LeaderEpochCache,
  followerLogEnd: number,
  divergence: Divergence,
): number {
  const { truncateTo, divergingEpoch } = divergence;
  if (divergingEpoch === null) return Math.min(truncateTo, followerLogEnd);
  const own = follower.endOffsetFor(divergingEpoch, followerLogEnd);
  return Math.min(truncateTo, own.endOffset, followerLogEnd);
}
