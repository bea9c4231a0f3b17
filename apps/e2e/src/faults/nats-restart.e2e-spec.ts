import { type NodeViewV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { type TestCluster } from '../cluster';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { OwnNatsServer } from './own-servers';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const OUTAGE_MS = 3_000;

/**
 * RELIABILITY S11: the NATS server is killed with SIGKILL and restarted 3 s later, under a client
 * writing to every partition. Every process loses NATS at once, so silence proves nothing: no
 * node may be declared dead and no partition may fail over because of the outage; every service
 * is connected (ready) again within 5 s of the restart, writes are acknowledged again, and the
 * checkers stay clean.
 */
describe('faults: the NATS server killed and restarted (S11)', () => {
  let nats: OwnNatsServer;
  let fleet: WrittenFleet;
  let cluster: TestCluster;
  let writer: KvWriter;
  const history = new History('s11-nats-restart');
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    nats = await OwnNatsServer.start();
    fleet = await WrittenFleet.start('s11', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
      natsUrl: nats.url,
    });
    ({ cluster, writer } = fleet);
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
    await nats?.stop();
  }, 60_000);

  it('S11: no node declared dead, no failover, every service ready ≤ 5 s after the restart, writes acknowledged again', async () => {
    const before = await fleet.resource();
    const killedAt = history.fault('SIGKILL', 'nats-server');
    nats.kill();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const restartedAt = history.fault('restart', 'nats-server');
    await nats.restart();

    // Every service's readiness includes its NATS connection.
    await cluster.waitReady({ timeoutMs: 5_000, intervalMs: 50 }).catch(withLogs);
    expect(Date.now() - restartedAt).toBeLessThanOrEqual(5_000);

    const healedAt = Date.now();
    await waitFor(
      'writes acknowledged on every partition after the restart',
      () => before.partitions.every((p) => writer.acked(p.partition, healedAt) > 0),
      { timeoutMs: 15_000 },
    ).catch(withLogs);
    // Health's grace after its reconnect is over by now: a node it held DEAD would show.
    await new Promise((r) => setTimeout(r, 2_500));
    const nodes = (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
    expect(nodes.map((n) => [n.id, n.state])).toEqual(NODES.map((n) => [n.id, 'ALIVE']));

    // No failover: every partition keeps its leader and epoch.
    const after = await fleet.resource();
    expect(after.partitions.map((p) => [p.partition, p.leader, p.epoch])).toEqual(
      before.partitions.map((p) => [p.partition, p.leader, p.epoch]),
    );
    expect(history.of('grant').filter((g) => g.t >= killedAt)).toEqual([]);
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(100);
  });
});
