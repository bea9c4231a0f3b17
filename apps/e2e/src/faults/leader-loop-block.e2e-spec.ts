import { DEFAULT_STALL_LIMIT_MS } from '@tessera/node-agent';
import { waitFor } from '@tessera/testing';
import { type TestCluster } from '../cluster';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { DETECTION_BOUND_MS, WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const BLOCK_MS = 7_000;

/**
 * RELIABILITY S4: a leader node's event loop blocked for 7 s, the process alive and its TCP
 * connections up (a sync call that never yields; injected through the inspector). Its heartbeat
 * thread falls silent once the loop has not ticked for the stall limit (5 s), so health declares
 * it DEAD and its partitions fail over: the new leaders' grants must follow DEAD within 1 s.
 * When the loop runs again, the writes that queued meanwhile must not be acknowledged at the old
 * epoch, and the node steps down.
 */
describe('faults: a leader node whose event loop is blocked for 7 s (S4)', () => {
  let cluster: TestCluster;
  let writer: KvWriter;
  const history = new History('s4-leader-loop-block');

  let fleet: WrittenFleet;

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s4', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ cluster, writer } = fleet);
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it('S4: DEAD within stall limit + detection, failover within 1 s of it, no stale acknowledgement, then the node steps down', async () => {
    const { node: blocked, moved } = await fleet.topLeader();
    expect(moved.length).toBeGreaterThan(0);

    history.fault('loop-block', blocked);
    const { blockedAt, released } = await cluster.blockEventLoop(blocked, BLOCK_MS);

    // DEAD only once the heartbeat thread has seen the loop stalled for its limit, then failover.
    const { dead, grants } = await fleet.failsOver(
      blocked,
      moved,
      blockedAt,
      DEFAULT_STALL_LIMIT_MS + DETECTION_BOUND_MS,
    );
    expect(dead.at - blockedAt).toBeGreaterThanOrEqual(DEFAULT_STALL_LIMIT_MS - 500);

    await released;
    const releasedAt = history.fault('loop-release', blocked);
    await fleet.steppedDown(blocked, moved, releasedAt);
    const steppedDownAt = Date.now();
    await waitFor('writes acknowledged after the release', () =>
      moved.every((p) => writer.acked(p.partition, steppedDownAt) > 0),
    );
    await writer.stop();

    // No acknowledgement at the old epoch once the loop ran again (writes queued while blocked
    // included): the new leaders had been granted by then.
    expect(fleet.staleAcks(moved, dead.at)).toEqual([]);
    const queuedPuts = history
      .of('invoke')
      .filter(
        (i) =>
          i.t >= blockedAt && i.t < releasedAt && moved.some((p) => p.partition === i.partition),
      );
    expect(queuedPuts.length).toBeGreaterThan(0);
    const lastGrant = Math.max(...grants.map((g) => g.at));
    console.log(
      `S4: ${blocked} led ${moved.length} of ${PARTITIONS}; loop blocked ${BLOCK_MS} ms: DEAD after ${dead.at - blockedAt} ms, every new leader ${lastGrant - dead.at} ms after DEAD; ${queuedPuts.length} puts sent to it while blocked, 0 acknowledged at the old epoch`,
    );
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(100);
    expect(history.of('grant').length).toBeGreaterThan(PARTITIONS);
  });
});
