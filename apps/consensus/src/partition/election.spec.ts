import fc from 'fast-check';
import { electLeader, type LeaderAndIsr, splitByLeadershipChange } from './election';

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

describe(splitByLeadershipChange.name, () => {
  const at = (partition: number, leader: string | null) => ({
    resource: 'orders',
    partition,
    leader,
  });

  it('separates the partitions whose leader changed from the rest, each in its original order', () => {
    const before = new Map<string, string | null>([
      ['orders/0', 'a'],
      ['orders/1', 'b'],
      ['orders/2', 'a'],
      ['orders/3', 'c'],
    ]);
    const [moved, rest] = splitByLeadershipChange(
      [at(0, 'a'), at(1, 'c'), at(2, 'a'), at(3, null)],
      before,
    );

    expect(moved.map((r) => r.partition)).toEqual([1, 3]);
    expect(rest.map((r) => r.partition)).toEqual([0, 2]);
  });

  it('splits every input into exactly the changed and the unchanged', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            partition: fc.nat(50),
            leader: fc.constantFrom('a', 'b', null),
            was: fc.constantFrom('a', 'b', null),
          }),
          { selector: (x) => x.partition },
        ),
        (xs) => {
          const rows = xs.map((x) => at(x.partition, x.leader));
          const before = new Map(xs.map((x) => [`orders/${x.partition}`, x.was] as const));
          const [moved, rest] = splitByLeadershipChange(rows, before);
          const byPartition = (a: { partition: number }, b: { partition: number }) =>
            a.partition - b.partition;

          expect([...moved, ...rest].sort(byPartition)).toEqual([...rows].sort(byPartition));
          moved.forEach((r) => expect(before.get(`orders/${r.partition}`)).not.toBe(r.leader));
          rest.forEach((r) => expect(before.get(`orders/${r.partition}`)).toBe(r.leader));
        },
      ),
    );
  });
});
