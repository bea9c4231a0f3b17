import fc from 'fast-check';
import { LeaderEpochCache, checkDivergence, followerTruncationPoint } from './leader-epoch-cache';

/** A log as the list of its record epochs, offset = index. */
function cacheOf(epochs: readonly number[]): LeaderEpochCache {
  const cache = new LeaderEpochCache();
  epochs.forEach((e, offset) => cache.assign(BigInt(e), offset));
  return cache;
}

/** Runs the fetch/truncate rounds until the follower's log agrees; returns its final length. */
function reconcileLogs(leader: number[], follower: number[]): number {
  let end = follower.length;
  for (let round = 0; round < 100; round++) {
    const f = cacheOf(follower.slice(0, end));
    const last = end === 0 ? null : BigInt(follower[end - 1]);
    const d = checkDivergence(cacheOf(leader), leader.length, end, last);
    if (d === null) return end;
    const next = followerTruncationPoint(f, end, d);
    if (next >= end) throw new Error(`no progress at ${end}`);
    end = next;
  }
  throw new Error('did not converge');
}

/** Length of the common prefix of two logs whose records are identified by (offset, epoch). */
function commonPrefix(a: number[], b: number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe(LeaderEpochCache.name, () => {
  it('keeps one entry per epoch, from its first record', () => {
    const sut = cacheOf([1, 1, 2, 2, 2, 5]);
    expect(sut.entries()).toEqual([
      { epoch: 1n, startOffset: 0 },
      { epoch: 2n, startOffset: 2 },
      { epoch: 5n, startOffset: 5 },
    ]);
    expect(sut.latestEpoch()).toBe(5n);
  });

  it('answers the end offset of the largest epoch not above the one asked (OffsetsForLeaderEpoch)', () => {
    const sut = cacheOf([1, 1, 2, 2, 2, 5]);
    expect(sut.endOffsetFor(1n, 6)).toEqual({ epoch: 1n, endOffset: 2 });
    expect(sut.endOffsetFor(2n, 6)).toEqual({ epoch: 2n, endOffset: 5 });
    expect(sut.endOffsetFor(4n, 6)).toEqual({ epoch: 2n, endOffset: 5 });
    expect(sut.endOffsetFor(9n, 6)).toEqual({ epoch: 5n, endOffset: 6 });
    expect(sut.endOffsetFor(0n, 6)).toEqual({ epoch: null, endOffset: 0 });
  });

  it('forgets epochs past a truncation point', () => {
    const sut = cacheOf([1, 1, 2, 2, 3]);
    sut.truncateFrom(3);
    expect(sut.entries()).toEqual([
      { epoch: 1n, startOffset: 0 },
      { epoch: 2n, startOffset: 2 },
    ]);
    sut.truncateFrom(2);
    expect(sut.latestEpoch()).toBe(1n);
  });

  it('refuses an epoch that goes backwards', () => {
    const sut = cacheOf([3]);
    expect(() => sut.assign(2n, 1)).toThrow(RangeError);
  });
});

describe(checkDivergence.name, () => {
  const leader = cacheOf([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);

  it('accepts a follower that is a prefix of the leader', () => {
    expect(checkDivergence(leader, 12, 0, null)).toBeNull();
    expect(checkDivergence(leader, 12, 3, 1n)).toBeNull();
    expect(checkDivergence(leader, 12, 12, 2n)).toBeNull();
  });

  it('reports the end of the shared epoch when the follower has an epoch the leader lacks', () => {
    // Follower [1 ×5, 3 ×5]: epoch 3 came from a deposed leader.
    expect(checkDivergence(leader, 12, 10, 3n)).toEqual({ truncateTo: 10, divergingEpoch: 2n });
  });

  it('reports a follower longer than the leader in the same epoch', () => {
    expect(checkDivergence(leader, 12, 14, 2n)).toEqual({ truncateTo: 12, divergingEpoch: 2n });
  });
});

describe(followerTruncationPoint.name, () => {
  it('cuts a suffix written by a deposed leader', () => {
    // Leader [1,1,1,2,2,2]; follower [1,1,1,1,3,3] (records 3.. of epoch 1 and 3 never committed).
    expect(reconcileLogs([1, 1, 1, 2, 2, 2], [1, 1, 1, 1, 3, 3])).toBe(3);
  });

  it('keeps a follower that is only behind', () => {
    expect(reconcileLogs([1, 1, 2, 2, 4], [1, 1, 2])).toBe(3);
  });

  it('drops everything when the leader has no epoch the follower has', () => {
    expect(reconcileLogs([5, 5], [1, 1, 1])).toBe(0);
  });

  it('converges on the longest common prefix for any two logs of one history', () => {
    // Generate a history where each epoch has exactly one leader: a shared prefix, then the two
    // logs continue under disjoint later epochs (the follower's from a deposed leader).
    const epochsRun = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 5 });
    fc.assert(
      fc.property(epochsRun, epochsRun, epochsRun, (shared, leaderOnly, followerOnly) => {
        const expand = (runs: number[], base: number, step: number) =>
          runs.flatMap((len, i) => Array.from({ length: len }, () => base + i * step));
        const prefix = expand(shared, 1, 1);
        const top = prefix.length ? prefix[prefix.length - 1] : 0;
        // Leader epochs even, follower's odd above the prefix: never the same epoch twice.
        const leader = [...prefix, ...expand(leaderOnly, top + 2, 2)];
        const follower = [...prefix, ...expand(followerOnly, top + 1, 2)];
        expect(reconcileLogs(leader, follower)).toBe(commonPrefix(leader, follower));
      }),
    );
  });
});
