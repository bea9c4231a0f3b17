import { type PartitionStateV1 } from '@tessera/contracts';
import { proposeIsr, type ReplicaSeen } from './isr-decision';

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
      { role: 'FOLLOWER', leaderEpoch: '3', logEndOffset: 100, highWatermark: null, ageMs: 100, ...r } as ReplicaSeen,
    ]),
  );

describe(proposeIsr.name, () => {
  it('lets a follower that caught up at the leader’s epoch into the ISR, in replica order', () => {
    const sut = proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER', highWatermark: 90 }, { nodeId: 'b' }, { nodeId: 'c', logEndOffset: 95 }));
    expect(sut).toEqual(['a', 'b', 'c']);
  });

  it('keeps a follower out while it is behind the high watermark or at an older epoch', () => {
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER', highWatermark: 100 }, { nodeId: 'b' }, { nodeId: 'c', logEndOffset: 99 }))).toBeNull();
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER' }, { nodeId: 'b' }, { nodeId: 'c', leaderEpoch: '2', logEndOffset: 500 }))).toBeNull();
  });

  it('drops a silent or far-behind follower, never the leader', () => {
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER' }, { nodeId: 'b', ageMs: 60_000 }))).toEqual(['a']);
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER', logEndOffset: 50_000 }, { nodeId: 'b', logEndOffset: 10 }))).toEqual(['a']);
  });

  it('judges nothing while the leader is not reporting at its epoch', () => {
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER', ageMs: 60_000 }, { nodeId: 'c' }))).toBeNull();
    expect(proposeIsr(state, seen({ nodeId: 'a', role: 'LEADER', leaderEpoch: '2' }, { nodeId: 'c' }))).toBeNull();
    expect(proposeIsr({ ...state, leader: null }, seen({ nodeId: 'c' }))).toBeNull();
  });
});
