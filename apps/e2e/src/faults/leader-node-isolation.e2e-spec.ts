import { waitFor } from '@tessera/testing';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { ProxiedFleet } from './proxied-fleet';
import { DETECTION_BOUND_MS, type WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const ISOLATION_MS = 20_000;
const CATCH_UP_MS = 30_000;

/**
 * RELIABILITY S7: a leader node cut off from NATS for 20 s, then healed. Every kv-node reaches
 * NATS through a proxy of its own; cutting the leader's drops everything either way while its
 * TCP connections stay open (heartbeat thread included). It must be DEAD within detection time,
 * its partitions led elsewhere within 1 s of that, nothing acknowledged at its old epoch, and
 * after the heal it is back, a follower, with every ISR whole again within 30 s.
 */
describe('faults: a leader node isolated from NATS for 20 s, then healed (S7)', () => {
  let writer: KvWriter;
  const history = new History('s7-leader-node-isolation');
  let proxied: ProxiedFleet;
  let fleet: WrittenFleet;
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    proxied = await ProxiedFleet.start('s7', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ fleet } = proxied);
    ({ writer } = fleet);
  }, 120_000);

  afterAll(() => proxied?.close(), 60_000);

  it('S7: DEAD within detection, new leaders within 1 s of it, nothing acknowledged at the old epoch, back in sync within 30 s of the heal', async () => {
    const { node: isolated, moved } = await fleet.topLeader();
    expect(moved.length).toBeGreaterThan(0);

    const isolatedAt = history.fault('isolate', isolated);
    proxied.proxy(isolated).isolate();
    const { dead, grants } = await fleet.failsOver(isolated, moved, isolatedAt, DETECTION_BOUND_MS);

    // The partition lasts its 20 s.
    await new Promise((r) => setTimeout(r, Math.max(0, isolatedAt + ISOLATION_MS - Date.now())));
    const healedAt = history.fault('heal', isolated);
    proxied.proxy(isolated).heal();

    await fleet.nodeStateEvent(isolated, 'ALIVE', healedAt, CATCH_UP_MS);
    await fleet.steppedDown(isolated, moved, healedAt, CATCH_UP_MS);
    // Caught up: every partition led, and every replica (the healed node's included) in the ISR.
    const whole = await waitFor(
      'every ISR whole again',
      async () => {
        const r = await fleet.sample();
        return r.partitions.every((p) => p.leader !== null && p.isr.length === p.replicas.length)
          ? r
          : undefined;
      },
      { timeoutMs: Math.max(1_000, healedAt + CATCH_UP_MS - Date.now()), intervalMs: 250 },
    ).catch(withLogs);
    const caughtUpMs = Date.now() - healedAt;
    expect(whole.partitions.some((p) => p.isr.includes(isolated))).toBe(true);

    const afterHeal = Date.now();
    await waitFor('writes acknowledged after the heal', () =>
      moved.every((p) => writer.acked(p.partition, afterHeal) > 0),
    ).catch(withLogs);
    await writer.stop();

    // Nothing acknowledged at the old epoch once the node was declared DEAD.
    expect(fleet.staleAcks(moved, dead.at)).toEqual([]);
    const lastGrant = Math.max(...grants.map((g) => g.at));
    console.log(
      `S7: ${isolated} led ${moved.length} of ${PARTITIONS}; isolated ${ISOLATION_MS} ms: DEAD after ${dead.at - isolatedAt} ms, every new leader ${lastGrant - dead.at} ms after DEAD; every ISR whole ${caughtUpMs} ms after the heal`,
    );
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(100);
    expect(history.of('grant').length).toBeGreaterThan(PARTITIONS);
  });
});
