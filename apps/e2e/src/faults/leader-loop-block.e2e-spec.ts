import { DEFAULT_STALL_LIMIT_MS } from '@tessera/node-agent';
import { waitFor } from '@tessera/testing';
import { type TestCluster } from '../cluster';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { type ControlPlaneRecorder } from './recorder';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const BLOCK_MS = 7_000;
/**
 * From the node's heartbeats falling silent to DEAD: the failover bench measures ~1 s; the bound
 * leaves room for a loaded CI machine.
 */
const DETECTION_BOUND_MS = 3_000;

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
  let recorder: ControlPlaneRecorder;
  let writer: KvWriter;
  const history = new History('s4-leader-loop-block');

  let fleet: WrittenFleet;
  const orders = () => fleet.resource();
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s4', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ cluster, recorder, writer } = fleet);
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it('S4: DEAD within stall limit + detection, failover within 1 s of it, no stale acknowledgement, then the node steps down', async () => {
    const before = await orders();
    const { node: blocked } = await fleet.topLeader();
    const moved = before.partitions.filter((p) => p.leader === blocked);
    expect(moved.length).toBeGreaterThan(0);

    history.fault('loop-block', blocked);
    const { blockedAt, released } = await cluster.blockEventLoop(blocked, BLOCK_MS);

    const dead = await waitFor(
      `${blocked} DEAD while its loop is blocked`,
      () => fleet.events.nodeStates(blocked, blockedAt).find((e) => e.body['state'] === 'DEAD'),
      { timeoutMs: BLOCK_MS, intervalMs: 20 },
    ).catch(withLogs);
    expect(dead.at - blockedAt).toBeLessThanOrEqual(DEFAULT_STALL_LIMIT_MS + DETECTION_BOUND_MS);
    expect(dead.at - blockedAt).toBeGreaterThanOrEqual(DEFAULT_STALL_LIMIT_MS - 500);

    // Failover: a new leader, at the next epoch, for every partition it led, from the events.
    const grants = await waitFor(
      'new-leader events for every partition the blocked node led',
      () => {
        const events = fleet.events.leaderEvents(RESOURCE, blockedAt);
        const firsts = moved.map((p) =>
          events.find(
            (e) =>
              e.body['partition'] === p.partition &&
              e.body['leader'] !== blocked &&
              e.body['leader'] !== null &&
              Number(e.body['epoch']) > p.epoch,
          ),
        );
        return firsts.every((e) => e !== undefined) ? firsts : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    ).catch(withLogs);
    for (const [i, grant] of grants.entries()) {
      expect(Number(grant!.body['epoch'])).toBe(moved[i].epoch + 1);
      expect(grant!.at - dead.at).toBeLessThanOrEqual(1_000);
    }

    await released;
    const releasedAt = history.fault('loop-release', blocked);
    // Steps down: it reports itself a follower at the new epoch of every partition it led.
    await waitFor(
      'the released node to report itself a follower at the new epochs',
      () => {
        const report = recorder.report(blocked, releasedAt);
        return (
          report !== undefined &&
          moved.every((p) =>
            report.some(
              (r) =>
                r.resource === RESOURCE &&
                r.partition === p.partition &&
                r.role !== 'LEADER' &&
                BigInt(r.leaderEpoch) > BigInt(p.epoch),
            ),
          )
        );
      },
      { timeoutMs: 20_000 },
    ).catch(withLogs);
    const steppedDownAt = Date.now();
    await waitFor('writes acknowledged after the release', () =>
      moved.every((p) => writer.acked(p.partition, steppedDownAt) > 0),
    );
    await writer.stop();

    // No acknowledgement at the old epoch once the loop ran again (writes queued while blocked
    // included): the new leaders had been granted by then.
    const invokes = new Map(history.of('invoke').map((i) => [i.id, i]));
    const oldEpoch = new Map(moved.map((p) => [p.partition, p.epoch]));
    const staleAcks = history
      .of('ok')
      .filter(
        (o) => o.t >= dead.at && oldEpoch.get(invokes.get(o.id)!.partition) === Number(o.epoch),
      );
    expect(staleAcks).toEqual([]);
    const queuedPuts = history
      .of('invoke')
      .filter((i) => i.t >= blockedAt && i.t < releasedAt && oldEpoch.has(i.partition));
    expect(queuedPuts.length).toBeGreaterThan(0);
    const lastGrant = Math.max(...grants.map((g) => g!.at));
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
