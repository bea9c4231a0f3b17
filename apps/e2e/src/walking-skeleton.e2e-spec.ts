import { connect, type NatsConnection } from 'nats';
import {
  type MapViewV1,
  type NodeViewV1,
  partitionForKey,
  type ResourceViewV1,
} from '@tessera/contracts';
import { startApp, waitFor } from '@tessera/testing';
import { TestCluster } from './cluster';

interface Event {
  subject: string;
  body: Record<string, unknown>;
}

/** A key that routes to partition p (the leader refuses keys of other partitions). */
function keyFor(p: number, partitionCount: number, prefix: string): string {
  for (let i = 0; ; i++) if (partitionForKey(`${prefix}-${i}`, partitionCount) === p) return `${prefix}-${i}`;
}

const NODES = [
  { id: 'kv-1', zone: 'z1', rack: 'r1' },
  { id: 'kv-2', zone: 'z2', rack: 'r2' },
  { id: 'kv-3', zone: 'z3', rack: 'r3' },
];

describe('walking skeleton: the whole fleet as real processes', () => {
  let cluster: TestCluster;
  let nc: NatsConnection;
  const events: Event[] = [];
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  const kv = async (subject: string, body: unknown, timeout = 2_000): Promise<Record<string, unknown>> => {
    const reply = await nc.request(`tessera.v1.${cluster.env.cluster}.${subject}`, enc.encode(JSON.stringify(body)), { timeout });
    return JSON.parse(dec.decode(reply.data)) as Record<string, unknown>;
  };
  const map = async () => (await cluster.api<MapViewV1>('GET', '/map')).body;
  const nodes = async () => (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;

  beforeAll(async () => {
    cluster = await TestCluster.start('e2e', NODES);
    nc = await connect({ servers: cluster.env.natsUrl });
    nc.subscribe(`tessera.v1.${cluster.env.cluster}.events.>`, {
      callback: (_err, msg) => events.push({ subject: msg.subject, body: JSON.parse(dec.decode(msg.data)) as Record<string, unknown> }),
    });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  }, 60_000);

  it('registers the kv-nodes and health marks them ALIVE', async () => {
    await waitFor('three ALIVE nodes', async () => {
      const list = await nodes();
      return list.length === 3 &&
        list.every((n) => n.state === 'ALIVE' && typeof n.lastHeartbeatAt === 'string')
        ? list
        : undefined;
    }, { timeoutMs: 30_000 }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${cluster.logs()}`);
    });
    const list = await nodes();
    expect(list.map((n) => [n.id, n.zone, n.rack])).toEqual(NODES.map((n) => [n.id, n.zone, n.rack]));
    expect(list.every((n) => typeof n.lastHeartbeatAt === 'string')).toBe(true);
    await waitFor('node.state events', () =>
      NODES.every((n) => events.some((e) => e.subject.endsWith('.events.node.state') && e.body['nodeId'] === n.id && e.body['state'] === 'ALIVE')),
    );
  });

  it('requires the admin token', async () => {
    expect((await cluster.api('GET', '/nodes', undefined, null)).status).toBe(401);
    const wrong = await cluster.api<{ code: string }>('GET', '/nodes', undefined, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('FORBIDDEN');
  });

  it('creates a resource whose partitions all get a leader at epoch 1 on distinct nodes', async () => {
    const created = await cluster.api<ResourceViewV1>('POST', '/resources', { name: 'orders', partitions: 8, replicationFactor: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders', partitions: 8, replicationFactor: 3 });

    const led = await waitFor('every partition led', async () => {
      const m = await map();
      const orders = m.resources.find((r) => r.name === 'orders');
      return orders && orders.partitions.length === 8 && orders.partitions.every((p) => p.leader !== null) ? m : undefined;
    }, { timeoutMs: 20_000 });
    const orders = led.resources.find((r) => r.name === 'orders')!;
    expect(orders.partitionCount).toBe(8);
    for (const p of orders.partitions) {
      expect(new Set(p.replicas).size).toBe(3);
      expect(p.leader).toBe(p.replicas[0]);
      expect(p.epoch).toBe(1);
      expect([...p.isr].sort()).toEqual([...p.replicas].sort());
    }
    expect(led.version).toBeGreaterThan(0);

    const described = await cluster.api<{ partitionsLed: number; offline: number }>('GET', '/resources/orders');
    expect(described.body).toMatchObject({ partitionsLed: 8, offline: 0 });
    expect((await cluster.api<ResourceViewV1[]>('GET', '/resources')).body.map((r) => r.name)).toEqual(['orders']);
  });

  it('publishes partition.leader and map events carrying eventId, time and map version', async () => {
    await waitFor('eight leader events', () =>
      events.filter((e) => e.subject.endsWith('.events.partition.leader') && e.body['resource'] === 'orders').length >= 8,
    );
    const leader = events.find((e) => e.subject.endsWith('.events.partition.leader'))!;
    expect(leader.body).toMatchObject({ resource: 'orders', epoch: 1 });
    expect(typeof leader.body['eventId']).toBe('string');
    expect(Number.isNaN(Date.parse(String(leader.body['at'])))).toBe(false);
    expect(typeof leader.body['version']).toBe('number');
    const mapEvents = events.filter((e) => e.subject.endsWith('.events.map'));
    expect(mapEvents.length).toBeGreaterThan(0);
    expect(Math.max(...mapEvents.map((e) => Number(e.body['version'])))).toBe((await map()).version);
  });

  it('serves put and get on the leader of the key’s partition', async () => {
    const m = await map();
    const orders = m.resources.find((r) => r.name === 'orders')!;
    const key = 'customer-42';
    const p = partitionForKey(key, orders.partitionCount);
    const put = await waitFor('the leader to serve puts', async () => {
      const reply = await kv(`kv.orders.${p}.put`, { key, value: 'hello' });
      return reply['ok'] === true ? reply : undefined;
    });
    expect(put).toMatchObject({ ok: true, epoch: String(orders.partitions[p].epoch) });
    expect(typeof put['offset']).toBe('number');
    expect(await kv(`kv.orders.${p}.get`, { key })).toMatchObject({ ok: true, value: 'hello' });
    expect(await kv(`kv.orders.${p}.get`, { key: keyFor(p, orders.partitionCount, 'never-written') })).toMatchObject({
      ok: true,
      value: null,
    });
    const other = (p + 1) % orders.partitionCount;
    expect(await kv(`kv.orders.${other}.put`, { key, value: 'misrouted' })).toMatchObject({ ok: false, code: 'INVALID' });
  });

  it('rejects malformed HTTP bodies and NATS messages with codes and changes nothing', async () => {
    const before = await map();
    const bad = await cluster.api<{ statusCode: number; code: string; message: string }>('POST', '/resources', {
      name: 'bad name!',
      partitions: 0,
      replicationFactor: 3,
      extra: true,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID');
    expect(bad.body.message).toMatch(/name/);
    expect((await cluster.api('POST', '/resources', '{"name": ')).status).toBe(400);
    expect((await cluster.api('POST', '/resources', { name: 'orders', partitions: 1, replicationFactor: 1 })).status).toBe(409);
    expect((await cluster.api('POST', '/resources', { name: 'huge', partitions: 4, replicationFactor: 5 })).status).toBe(400);
    expect((await cluster.api('GET', '/resources/nope')).status).toBe(404);

    const p = 0;
    expect(await kv(`kv.orders.${p}.put`, { key: 7 })).toMatchObject({ ok: false, code: 'INVALID' });
    const raw = await nc.request(`tessera.v1.${cluster.env.cluster}.kv.orders.${p}.put`, enc.encode('not json'), { timeout: 2_000 });
    expect(JSON.parse(dec.decode(raw.data))).toMatchObject({ ok: false, code: 'INVALID_JSON' });
    expect(await kv('coordinator.node.register', { nodeId: 'x', zone: 'z' })).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await kv('consensus.partition.elect', { unavailable: 'kv-1' })).toMatchObject({ ok: false, code: 'INVALID' });

    const after = await map();
    expect(after).toEqual(before);
    for (const proc of [...cluster.services.values(), ...cluster.nodes.values()]) expect(proc.child.exitCode).toBeNull();
  });

  it('survives SIGKILL of a kv-node: the rest stays up and its partitions get new leaders', async () => {
    const before = (await map()).resources.find((r) => r.name === 'orders')!;
    const victim = 'kv-1';
    const led = before.partitions.filter((p) => p.leader === victim);
    cluster.nodes.get(victim)!.signal('SIGKILL');
    await cluster.nodes.get(victim)!.exited;

    await waitFor('the victim to be DEAD', async () => (await nodes()).find((n) => n.id === victim)?.state === 'DEAD', {
      timeoutMs: 15_000,
    });
    const after = await waitFor('new leaders for the victim’s partitions', async () => {
      const orders = (await map()).resources.find((r) => r.name === 'orders')!;
      return orders.partitions.every((p) => p.leader !== null && p.leader !== victim) ? orders : undefined;
    }, { timeoutMs: 15_000 });
    for (const p of led) {
      const now = after.partitions[p.partition];
      expect(now.epoch).toBe(p.epoch + 1);
      expect(p.isr).toContain(now.leader);
      expect(now.isr).not.toContain(victim);
    }
    await waitFor('a DEAD node.state event', () =>
      events.some((e) => e.subject.endsWith('.events.node.state') && e.body['nodeId'] === victim && e.body['state'] === 'DEAD'),
    );
    // Every other process is still up and ready, and a moved partition serves writes.
    await cluster.waitReady();
    for (const [id, proc] of cluster.nodes) if (id !== victim) expect(proc.child.exitCode).toBeNull();
    if (led.length > 0) {
      const p = led[0].partition;
      const reply = await waitFor('the new leader to serve', async () => {
        const r = await kv(`kv.orders.${p}.put`, { key: keyFor(p, after.partitionCount, 'after-failover'), value: 'v2' });
        return r['ok'] === true ? r : undefined;
      });
      expect(reply['epoch']).toBe(String(after.partitions[p].epoch));
    }
  });

  it('serves nothing of a deleted resource from a node that was down, when one of the same name is created', async () => {
    const victim = 'kv-1';
    const alive = () => waitFor(`${victim} ALIVE`, async () => (await nodes()).find((n) => n.id === victim)?.state === 'ALIVE', { timeoutMs: 20_000 });
    const create = async (): Promise<NonNullable<MapViewV1['resources'][number]>> => {
      expect((await cluster.api('POST', '/resources', { name: 'ledger', partitions: 3, replicationFactor: 3 })).status).toBe(201);
      return waitFor('every ledger partition led', async () => {
        const ledger = (await map()).resources.find((r) => r.name === 'ledger');
        return ledger && ledger.partitions.length === 3 && ledger.partitions.every((p) => p.leader !== null) ? ledger : undefined;
      }, { timeoutMs: 20_000 });
    };
    const read = (p: number) =>
      waitFor(`ledger/${p} to answer`, async () => {
        const r = await kv(`kv.ledger.${p}.get`, { key: keyFor(p, 3, 'ledger') }).catch(() => undefined);
        return r?.['ok'] === true ? r : undefined;
      }, { timeoutMs: 15_000 });
    cluster.restartNode(victim);
    await alive();
    // Every node holds every partition (RF 3 of 3): the victim keeps a copy of each.
    const first = await create();
    for (const p of first.partitions) {
      const put = await waitFor(`a put to ledger/${p.partition}`, async () => {
        const r = await kv(`kv.ledger.${p.partition}.put`, { key: keyFor(p.partition, 3, 'ledger'), value: 'old' }).catch(() => undefined);
        return r?.['ok'] === true ? r : undefined;
      }, { timeoutMs: 15_000 });
      expect(put['ok']).toBe(true);
    }
    // Down while the resource is deleted: its NONE never reaches it, its logs stay.
    await cluster.kill(victim);
    expect((await cluster.api('DELETE', '/resources/ledger')).status).toBeLessThan(300);
    await waitFor('ledger deleted', async () => (await cluster.api('GET', '/resources/ledger')).status === 404, { timeoutMs: 20_000 });
    cluster.restartNode(victim);
    await alive();
    const second = await create();
    expect(second.partitions.some((p) => p.leader === victim)).toBe(true);
    for (const p of second.partitions) {
      const got = await read(p.partition);
      expect({ partition: p.partition, leader: p.leader, value: got['value'] }).toEqual({ partition: p.partition, leader: p.leader, value: null });
    }
  });

  it('stops every service cleanly on SIGTERM', async () => {
    const results = await Promise.all([...cluster.services.values()].map((p) => p.stop(15_000)));
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
  });

  it('refuses to start with a bad environment, naming the variable in one line', async () => {
    const proc = startApp('coordinator', cluster.env.env({ TESSERA_HTTP_PORT: 'not-a-port' }), 'bad-env');
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const lines = proc.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/TESSERA_HTTP_PORT/);
  });
});
