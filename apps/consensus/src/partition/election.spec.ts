import fc from 'fast-check';
import { electLeader, type LeaderAndIsr } from './election';

const row = (over: Partial<LeaderAndIsr> = {}): LeaderAndIsr => ({
  resource: 'orders',
  partition: 0,
  replicas: ['a', 'b', 'c'],
  leader: 'a',
  leaderEpoch: 5n,
  isr: ['a', 'b', 'c'],
  partitionEpoch: 9n,
  ...over,
});

describe(electLeader.name, () => {
  it('elects the preferred in-sync replica with a higher epoch when the leader dies', () => {
    const sut = electLeader(row(), new Set(['a']));
    expect(sut.outcome).toBe('ELECTED');
    expect(sut.next.leader).toBe('b');
    expect(sut.next.leaderEpoch).toBe(6n);
    expect(sut.next.isr).toEqual(['b', 'c']);
    expect(sut.next.partitionEpoch).toBe(10n);
  });

  it('spreads a dead node’s leaderships over the least-loaded in-sync replicas', () => {
    const load = new Map([
      ['b', 5],
      ['c', 1],
    ]);
    const first = electLeader(row({ replicas: ['a', 'b', 'c'] }), new Set(['a']), load);
    const second = electLeader(
      row({ partition: 1, replicas: ['a', 'c', 'b'] }),
      new Set(['a']),
      load,
    );
    expect(first.next.leader).toBe('c');
    expect(second.next.leader).toBe('c');
    expect(load.get('c')).toBe(3);
    const third = electLeader(
      row({ partition: 2 }),
      new Set(['a']),
      new Map([
        ['b', 0],
        ['c', 9],
      ]),
    );
    expect(third.next.leader).toBe('b');
  });

  it('never elects a replica outside the ISR', () => {
    const sut = electLeader(row({ isr: ['a', 'c'] }), new Set(['a']));
    expect(sut.next.leader).toBe('c');
  });

  it('shrinks the ISR without touching the leader epoch when a follower dies', () => {
    const sut = electLeader(row(), new Set(['b']));
    expect(sut.outcome).toBe('ISR_SHRUNK');
    expect(sut.next.leader).toBe('a');
    expect(sut.next.leaderEpoch).toBe(5n);
    expect(sut.next.isr).toEqual(['a', 'c']);
  });

  it('takes the partition offline, fencing the old leader, when no in-sync replica is left', () => {
    const sut = electLeader(row({ isr: ['a'] }), new Set(['a']));
    expect(sut.outcome).toBe('OFFLINE');
    expect(sut.next.leader).toBeNull();
    expect(sut.next.leaderEpoch).toBe(6n);
    expect(sut.next.isr).toEqual(['a']);
  });

  it('brings an offline partition back when an ISR member returns', () => {
    const offline = row({ leader: null, isr: ['a'], leaderEpoch: 6n });
    const sut = electLeader(offline, new Set());
    expect(sut.outcome).toBe('ELECTED');
    expect(sut.next.leader).toBe('a');
    expect(sut.next.leaderEpoch).toBe(7n);
  });

  it('keeps invariants on arbitrary rows: leader from the ISR, epochs never shrink', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const arb = fc.record({
      replicas: fc.shuffledSubarray(nodes, { minLength: 1, maxLength: 5 }),
      isrMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      leaderIdx: fc.integer({ min: -1, max: 4 }),
      unavailable: fc.subarray(nodes),
      epoch: fc.bigInt({ min: 0n, max: 1n << 62n }),
    });
    fc.assert(
      fc.property(arb, ({ replicas, isrMask, leaderIdx, unavailable, epoch }) => {
        const isr = replicas.filter((_, i) => isrMask[i]);
        const leader = leaderIdx >= 0 && leaderIdx < isr.length ? isr[leaderIdx] : null;
        const before = row({ replicas, isr, leader, leaderEpoch: epoch, partitionEpoch: epoch });
        const { outcome, next } = electLeader(before, new Set(unavailable));
        if (next.leader !== null) {
          expect(next.isr).toContain(next.leader);
          expect(before.isr).toContain(next.leader);
          expect(unavailable).not.toContain(next.leader);
        }
        expect(next.leaderEpoch >= before.leaderEpoch).toBe(true);
        if (next.leader !== before.leader) expect(next.leaderEpoch).toBe(before.leaderEpoch + 1n);
        if (outcome === 'UNCHANGED') expect(next).toEqual(before);
        else expect(next.partitionEpoch).toBe(before.partitionEpoch + 1n);
      }),
    );
  });
});
