import { HEARTBEAT_PING_INTERVAL_MS } from '@tessera/node-agent';
import { waitFor } from '@tessera/testing';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { ProxiedFleet } from './proxied-fleet';
import { DETECTION_BOUND_MS, type WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const FAULT_MS = 15_000;
/** The heartbeat thread gives up on a server that does not answer after 3 missed pongs. */
const DEAF_NOTICED_MS = 4 * HEARTBEAT_PING_INTERVAL_MS;

/**
 * RELIABILITY S9, asymmetric: a leader node whose messages still reach NATS (its heartbeats
 * included) but which receives nothing back — no puts, no acknowledgements. Its heartbeat thread
 * must notice that the server does not answer and fall silent, so the node is declared DEAD and
 * its partitions fail over, once each: no partition changes leader more than once during the
 * fault, nothing is acknowledged at the old epoch, and after the heal it is back in sync.
 */
describe('faults: a leader node that sends but cannot receive, for 15 s (S9)', () => {
  let writer: KvWriter;
  const history = new History('s9-leader-node-deaf');
  let proxied: ProxiedFleet;
  let fleet: WrittenFleet;
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    proxied = await ProxiedFleet.start('s9', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ fleet } = proxied);
    ({ writer } = fleet);
  }, 120_000);

  afterAll(() => proxied?.close(), 60_000);

  it('S9: DEAD once it notices it hears nothing, one leader change per partition, nothing acknowledged at the old epoch, back in sync after the heal', async () => {
    const { node: deaf, moved } = await fleet.topLeader();
    expect(moved.length).toBeGreaterThan(0);

    const deafAt = history.fault('isolate', deaf);
    proxied.proxy(deaf).deafen();
    const { dead, grants } = await fleet.failsOver(
      deaf,
      moved,
      deafAt,
      DEAF_NOTICED_MS + DETECTION_BOUND_MS,
    );

    await new Promise((r) => setTimeout(r, Math.max(0, deafAt + FAULT_MS - Date.now())));
    // During the fault: at most one new epoch per partition (the failover), none back and forth.
    const epochsDuring = new Map<number, Set<number>>();
    for (const e of fleet.events.leaderEvents(RESOURCE, deafAt)) {
      const partition = Number(e.body['partition']);
      const epochs = epochsDuring.get(partition) ?? new Set<number>();
      epochsDuring.set(partition, epochs.add(Number(e.body['epoch'])));
    }
    for (const epochs of epochsDuring.values()) expect(epochs.size).toBeLessThanOrEqual(1);

    const healedAt = history.fault('heal', deaf);
    proxied.proxy(deaf).heal();
    await fleet.nodeStateEvent(deaf, 'ALIVE', healedAt, 30_000);
    await fleet.steppedDown(deaf, moved, healedAt, 30_000);
    const converged = await fleet.waitConverged(30_000, { since: healedAt });
    expect(converged.ms).not.toBeNull();

    const afterHeal = Date.now();
    await waitFor('writes acknowledged after the heal', () =>
      moved.every((p) => writer.acked(p.partition, afterHeal) > 0),
    ).catch(withLogs);
    await writer.stop();
    expect(fleet.staleAcks(moved, dead.at)).toEqual([]);
    const lastGrant = Math.max(...grants.map((g) => g.at));
    console.log(
      `S9: ${deaf} led ${moved.length} of ${PARTITIONS}; deaf ${FAULT_MS} ms: DEAD after ${dead.at - deafAt} ms, every new leader ${lastGrant - dead.at} ms after DEAD; converged ${String(converged.ms)} ms after the heal`,
    );
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(100);
    expect(history.of('grant').length).toBeGreaterThan(PARTITIONS);
  });
});
