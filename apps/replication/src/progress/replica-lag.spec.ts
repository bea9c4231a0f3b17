import 'reflect-metadata';
import fc from 'fast-check';
import { type StoredProgress, withLag } from './replica-lag';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));

function row(
  nodeId: string,
  role: StoredProgress['role'],
  logEndOffset: number,
  extra: Partial<StoredProgress> = {},
): StoredProgress {
  return {
    nodeId,
    resource: 'orders',
    partition: 0,
    role,
    leaderEpoch: '2',
    logEndOffset: String(logEndOffset),
    reportedAt: at(0),
    ...extra,
  };
}

describe(withLag.name, () => {
  it("measures each replica against its partition leader's log end offset", () => {
    const sut = withLag([
      row('a', 'LEADER', 100),
      row('b', 'FOLLOWER', 90),
      row('c', 'FOLLOWER', 100),
    ]);
    expect(sut.map((r) => [r.nodeId, r.lag])).toEqual([
      ['a', 0],
      ['b', 10],
      ['c', 0],
    ]);
    expect(sut[1]).toEqual({
      nodeId: 'b',
      resource: 'orders',
      partition: 0,
      role: 'FOLLOWER',
      leaderEpoch: '2',
      logEndOffset: 90,
      lag: 10,
      reportedAt: at(0).toISOString(),
    });
  });

  it('reports null lag when no leader of the partition has reported', () => {
    expect(withLag([row('b', 'FOLLOWER', 90)])[0]!.lag).toBeNull();
  });

  it('never compares partitions or resources with each other', () => {
    const sut = withLag([
      row('a', 'LEADER', 100),
      row('b', 'FOLLOWER', 5, { partition: 1 }),
      row('c', 'FOLLOWER', 5, { resource: 'users' }),
    ]);
    expect(sut.map((r) => r.lag)).toEqual([0, null, null]);
  });

  it('takes the leader with the highest epoch over a deposed one, then the newest report', () => {
    const deposed = row('a', 'LEADER', 500, { leaderEpoch: '9' });
    const current = row('b', 'LEADER', 120, { leaderEpoch: '10' });
    expect(withLag([deposed, current, row('c', 'FOLLOWER', 100)]).map((r) => r.lag)).toEqual([
      0, 0, 20,
    ]);
    const older = row('d', 'LEADER', 50, { leaderEpoch: '10', reportedAt: at(1) });
    const newer = row('e', 'LEADER', 80, { leaderEpoch: '10', reportedAt: at(2) });
    expect(withLag([older, newer, row('c', 'FOLLOWER', 60)]).map((r) => r.lag)).toEqual([
      30, 0, 20,
    ]);
  });

  it('never reports a negative lag for a follower that looks ahead of the leader', () => {
    expect(withLag([row('a', 'LEADER', 100), row('b', 'FOLLOWER', 130)])[1]!.lag).toBe(0);
  });

  it('keeps lag between 0 and the leader offset for any positions', () => {
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.array(fc.nat(1_000_000), { maxLength: 6 }),
        (leaderLeo, followers) => {
          const rows = [
            row('l', 'LEADER', leaderLeo),
            ...followers.map((leo, i) => row(`f${i}`, 'FOLLOWER', leo)),
          ];
          for (const r of withLag(rows)) {
            expect(r.lag).not.toBeNull();
            expect(r.lag!).toBeGreaterThanOrEqual(0);
            expect(r.lag!).toBeLessThanOrEqual(leaderLeo);
            expect(r.lag).toBe(Math.max(0, leaderLeo - r.logEndOffset));
          }
        },
      ),
    );
  });
});
