import {
  checkAll,
  checkConvergence,
  checkLeaderGrants,
  checkNoDuplicateOffsets,
  checkNoFailedWriteVisible,
  checkNoLostWrites,
  checkStaleAccepts,
  convergedAt,
  unconverged,
} from './checkers';
import {
  type CommandOutcome,
  type Grant,
  type HistoryEntry,
  type MapSample,
  type SampledPartition,
} from './history';

const put = (id: number, partition = 0, t = id * 10): HistoryEntry => ({
  type: 'invoke',
  t,
  id,
  resource: 'r',
  partition,
  key: `k${id}`,
  value: `v${id}`,
});
const ok = (id: number, epoch: string, offset: number, t = id * 10 + 1): HistoryEntry => ({
  type: 'ok',
  t,
  id,
  epoch,
  offset,
  n: 1,
});
const read = (id: number, value: string | null, partition = 0): HistoryEntry => ({
  type: 'read',
  t: 10_000,
  resource: 'r',
  partition,
  key: `k${id}`,
  value,
  epoch: '2',
});
const grant = (
  partition: number,
  leader: string | null,
  epoch: number,
  version: number,
  t = version * 10,
): Grant => ({
  type: 'grant',
  t,
  eventId: `e-${partition}-${epoch}-${leader}-${version}`,
  resource: 'r',
  partition,
  leader,
  epoch,
  version,
});
const command = (
  nodeId: string,
  epoch: string,
  outcome: 'accepted' | 'rejected',
  t: number,
  replayed = false,
): CommandOutcome => ({
  type: 'command',
  t,
  nodeId,
  resource: 'r',
  partition: 0,
  role: 'FOLLOWER',
  leader: 'n1',
  epoch,
  outcome,
  replayed,
});

const part = (
  partition: number,
  leader: string | null,
  isr: string[],
  replicas = ['a', 'b', 'c'],
): SampledPartition => ({ partition, leader, epoch: 1, isr, replicas });
const sample = (t: number, partitions: SampledPartition[], resource = 'r'): MapSample => ({
  type: 'map',
  t,
  resource,
  partitions,
});
const full = (partition: number) => part(partition, 'a', ['a', 'b', 'c']);

describe('fault checkers', () => {
  it('C1: finds an acknowledged write that is gone, and passes one that is there', () => {
    const history = [put(1), ok(1, '1', 0), put(2), ok(2, '1', 1), read(1, 'v1'), read(2, null)];
    expect(checkNoLostWrites(history).map((v) => v.message)).toEqual([
      expect.stringContaining('put #2'),
    ]);
    expect(checkNoLostWrites([put(3), ok(3, '1', 0)])).toEqual([
      { checker: 'C1', message: expect.stringContaining('never read back') },
    ]);
    // Unacknowledged (timed out) writes may be lost.
    expect(
      checkNoLostWrites([put(4), { type: 'info', t: 50, id: 4, reason: 'timeout' }, read(4, null)]),
    ).toEqual([]);
  });

  it('C2: a definite failure must not be visible; an indeterminate one may be', () => {
    const fail = (id: number, code: string, definite: boolean): HistoryEntry => ({
      type: 'fail',
      t: id * 10 + 1,
      id,
      code,
      definite,
      n: 1,
    });
    expect(
      checkNoFailedWriteVisible([put(1), fail(1, 'NOT_LEADER', true), read(1, 'v1')]),
    ).toHaveLength(1);
    expect(checkNoFailedWriteVisible([put(1), fail(1, 'NOT_LEADER', true), read(1, null)])).toEqual(
      [],
    );
    expect(
      checkNoFailedWriteVisible([put(1), fail(1, 'NOT_ENOUGH_REPLICAS', false), read(1, 'v1')]),
    ).toEqual([]);
    // A second responder acknowledged it: not a failed write.
    expect(
      checkNoFailedWriteVisible([
        put(1),
        fail(1, 'NOT_LEADER', true),
        ok(1, '2', 3),
        read(1, 'v1'),
      ]),
    ).toEqual([]);
  });

  it('C3: one offset per partition belongs to one write', () => {
    expect(checkNoDuplicateOffsets([put(1), ok(1, '1', 5), put(2), ok(2, '2', 5)])).toHaveLength(1);
    expect(checkNoDuplicateOffsets([put(1), ok(1, '1', 5), put(2, 1), ok(2, '1', 5)])).toEqual([]);
    expect(checkNoDuplicateOffsets([put(1), ok(1, '1', 5), ok(1, '1', 5)])).toEqual([]);
  });

  it('C4: two leaders for one epoch, or an epoch going down, are violations', () => {
    expect(
      checkLeaderGrants([grant(0, 'a', 1, 1), grant(0, 'b', 2, 2), grant(0, 'b', 2, 2)]),
    ).toEqual([]);
    expect(checkLeaderGrants([grant(0, 'a', 2, 1), grant(0, 'b', 2, 2)])).toEqual([
      { checker: 'C4', message: 'r/0 epoch 2 has leaders a and b' },
    ]);
    expect(
      checkLeaderGrants([grant(0, 'a', 3, 1), grant(0, 'b', 2, 2)]).map((v) => v.message),
    ).toEqual([expect.stringContaining('epoch went down from 3')]);
    // An offline grant (leader null) shares its epoch with nobody's leadership claim.
    expect(checkLeaderGrants([grant(1, 'a', 2, 1), grant(1, null, 2, 2)])).toEqual([]);
  });

  it('C5: a command accepted below the highest accepted epoch is a violation', () => {
    expect(
      checkStaleAccepts([
        command('n2', '1', 'accepted', 1),
        command('n2', '2', 'accepted', 2),
        command('n2', '1', 'rejected', 3, true),
      ]),
    ).toEqual([]);
    expect(
      checkStaleAccepts([
        command('n2', '2', 'accepted', 1),
        command('n2', '1', 'accepted', 2, true),
      ]),
    ).toEqual([{ checker: 'C5', message: 'n2 r/0: accepted FOLLOWER@1 (replayed) after epoch 2' }]);
    // Same epoch again (a re-send) is fine; other nodes are independent.
    expect(
      checkStaleAccepts([
        command('n2', '2', 'accepted', 1),
        command('n2', '2', 'accepted', 2),
        command('n3', '1', 'accepted', 3),
      ]),
    ).toEqual([]);
  });

  it('C5: a write acknowledged at an epoch older than a grant already seen is a zombie write', () => {
    const history = [
      grant(0, 'a', 1, 1, 0),
      put(1),
      ok(1, '1', 0, 20),
      grant(0, 'b', 2, 2, 30),
      put(5),
      ok(5, '1', 1, 60),
      put(6),
      ok(6, '2', 1, 70),
    ];
    expect(checkStaleAccepts(history)).toEqual([
      {
        checker: 'C5',
        message: 'put #5 on r/0 sent after epoch 2 was granted, acknowledged at epoch 1',
      },
    ]);
    // Sent before the grant was seen, answered after it at the old epoch: an acknowledgement in
    // flight during a leader move, not a zombie's.
    expect(
      checkStaleAccepts([
        grant(0, 'a', 1, 1, 0),
        put(2, 0, 25),
        grant(0, 'b', 2, 2, 30),
        ok(2, '1', 0, 40),
      ]),
    ).toEqual([]);
  });

  it('runs every checker over a clean history without a violation', () => {
    const history = [
      grant(0, 'a', 1, 1, 0),
      put(1),
      ok(1, '1', 0),
      put(2),
      ok(2, '1', 1),
      grant(0, 'b', 2, 2, 35),
      put(4),
      ok(4, '2', 2),
      read(1, 'v1'),
      read(2, 'v2'),
      read(4, 'v4'),
    ];
    expect(checkAll(history)).toEqual([]);
  });

  it('C6: a partition is converged when led from a full ISR of RF replicas on live nodes only', () => {
    expect(unconverged(full(0), 3)).toBeNull();
    expect(unconverged(part(0, 'b', ['c', 'b', 'a']), 3)).toBeNull();
    expect(unconverged(part(0, null, ['a', 'b', 'c']), 3)).toBe('no leader');
    expect(unconverged(part(0, 'a', ['b', 'c']), 3)).toContain('not in the ISR');
    expect(unconverged(part(0, 'a', ['a', 'b']), 3)).toContain('ISR [a,b] short of');
    expect(unconverged(part(0, 'a', ['a', 'b'], ['a', 'b']), 3)).toContain('not 3');
    expect(unconverged(part(0, 'a', ['a', 'a', 'b'], ['a', 'a', 'b']), 3)).toContain('not 3');
    expect(unconverged(full(0), 3, ['c'])).toBe('replicas on c [a,b,c]');
  });

  it('C6: passes when a sample within the time after the heal shows every partition converged', () => {
    const spec = { resource: 'r', since: 1_000, withinMs: 5_000, replicationFactor: 3 };
    const history = [
      sample(500, [full(0), full(1)]), // before the heal: does not count
      sample(2_000, [full(0), part(1, 'a', ['a'])]),
      sample(4_000, [full(0), full(1)], 'other'),
      sample(5_500, [full(0), full(1)]),
    ];
    expect(convergedAt(history, spec)).toBe(5_500);
    expect(checkConvergence(history, spec)).toEqual([]);
  });

  it('C6: names the partitions still short when the time runs out, and when it converged later', () => {
    const spec = { resource: 'r', since: 1_000, withinMs: 5_000, replicationFactor: 3 };
    const late = [
      sample(500, [full(0), full(1)]),
      sample(3_000, [full(0), part(1, 'a', ['a', 'b'])]),
      sample(9_000, [full(0), full(1)]),
    ];
    expect(checkConvergence(late, spec)).toEqual([
      {
        checker: 'C6',
        message:
          'r not converged 5.0 s after the heal (only 8.0 s after it): r/1 ISR [a,b] short of replicas [a,b,c]',
      },
    ]);
    expect(checkConvergence(late.slice(0, 2), spec)[0].message).toContain('and not since');
    expect(checkConvergence([sample(3_000, [])], spec)[0].message).toContain('no partitions');
    expect(checkConvergence(late.slice(0, 1), spec)).toEqual([
      { checker: 'C6', message: 'no map of r sampled in the 5.0 s after the heal' },
    ]);
    // A node that must be empty by then (drained, or dead and re-placed) keeps it unconverged.
    expect(
      checkConvergence([sample(2_000, [full(0)])], { ...spec, excluded: ['c'] })[0].message,
    ).toContain('r/0 replicas on c');
  });
});
