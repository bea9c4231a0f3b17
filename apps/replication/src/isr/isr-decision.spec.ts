import { type PartitionStateV1 } from '@tessera/contracts';
import { DEFAULT_ISR_POLICY, proposeIsr, type ReplicaSeen } from './isr-decision';

const state: PartitionStateV1 = {
  resource: 'r',
  partition: 0,
  replicas: ['a', 'b', 'c'],
  leader: 'a',
  leaderEpoch: '3',
  isr: ['a', 'b'],
  partitionEpoch: '7',
};

const seen = (...rows: Partial<ReplicaSeen>[]): Map<string, ReplicaSeen> =>
  new Map(
    rows.map((r) => [
      r.nodeId!,
      {
        role: 'FOLLOWER',
        leaderEpoch: '3',
        logEndOffset: 100,
        highWatermark: null,
        ageMs: 100,
        ...r,
      } as ReplicaSeen,
    ]),
  );

/** c has been known to be out of the ISR for a minute: a fresh report of it may readmit it. */
const longOut = new Map([['c', 60_000]]);

/** The decision for `state` given these reports, c long known to be out. */
const decide = (...rows: Partial<ReplicaSeen>[]) => proposeIsr(state, seen(...rows), longOut);

const leader = (r: Partial<ReplicaSeen> = {}) => ({ nodeId: 'a', role: 'LEADER', ...r });

describe(proposeIsr.name, () => {
  it('lets a follower that caught up at the leader’s epoch into the ISR, in replica order', () => {
    const sut = decide(
      leader({ highWatermark: 90 }),
      { nodeId: 'b' },
      { nodeId: 'c', logEndOffset: 95 },
    );
    expect(sut).toEqual(['a', 'b', 'c']);
  });

  it('keeps a follower out while it is behind the high watermark or at an older epoch', () => {
    expect(
      decide(leader({ highWatermark: 100 }), { nodeId: 'b' }, { nodeId: 'c', logEndOffset: 99 }),
    ).toBeNull();
    expect(
      decide(leader(), { nodeId: 'b' }, { nodeId: 'c', leaderEpoch: '2', logEndOffset: 500 }),
    ).toBeNull();
  });

  it('drops a silent or far-behind follower, never the leader', () => {
    expect(decide(leader(), { nodeId: 'b', ageMs: 60_000 })).toEqual(['a']);
    expect(decide(leader({ logEndOffset: 50_000 }), { nodeId: 'b', logEndOffset: 10 })).toEqual([
      'a',
    ]);
  });

  it('judges nothing while the leader is not reporting at its epoch', () => {
    expect(decide(leader({ ageMs: 60_000 }), { nodeId: 'c' })).toBeNull();
    expect(decide(leader({ leaderEpoch: '2' }), { nodeId: 'c' })).toBeNull();
    expect(proposeIsr({ ...state, leader: null }, seen({ nodeId: 'c' }), longOut)).toBeNull();
  });

  it('readmits a replica only on a report younger than the time it has been known out', () => {
    const caughtUp = seen(
      leader({ highWatermark: 90 }),
      { nodeId: 'b' },
      { nodeId: 'c', ageMs: 1_500 },
    );

    // A node killed right after reporting: the failover shrank it out 500 ms ago.
    expect(proposeIsr(state, caughtUp, new Map([['c', 500]]))).toBeNull();
    // Never seen out (replication just started): wait for a later report.
    expect(proposeIsr(state, caughtUp, new Map())).toBeNull();
    // It reported after it was seen out: alive and caught up.
    expect(proposeIsr(state, caughtUp, new Map([['c', 2_000]]))).toEqual(['a', 'b', 'c']);
  });

  it('readmits a replica only on a report fresh enough that its leader still counts it toward acks', () => {
    const reported = (ageMs: number) =>
      decide(leader({ highWatermark: 90 }), { nodeId: 'b' }, { nodeId: 'c', ageMs });

    expect(reported(DEFAULT_ISR_POLICY.readmitFreshMs)).toEqual(['a', 'b', 'c']);
    // Still fresh enough to keep c in an ISR, but the leader may have stopped waiting for it.
    expect(reported(DEFAULT_ISR_POLICY.readmitFreshMs + 1)).toBeNull();
  });
});
