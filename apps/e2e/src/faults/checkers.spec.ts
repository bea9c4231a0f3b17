import {
  checkAll,
  checkLeaderGrants,
  checkNoDuplicateOffsets,
  checkNoFailedWriteVisible,
  checkNoLostWrites,
  checkStaleAccepts,
} from './checkers';
import { type CommandOutcome, type Grant, type HistoryEntry } from './history';

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
      { checker: 'C5', message: 'put #5 on r/0 acknowledged at epoch 1 after epoch 2 was granted' },
    ]);
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
});
