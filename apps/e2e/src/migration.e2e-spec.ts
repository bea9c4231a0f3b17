import { type MapViewV1, type NodeAdminReplyV1, type OperationV1, type RebalancePlanV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { TestCluster } from './cluster';

const NODES = [
  { id: 'kv-1', zone: 'z1', rack: 'r1' },
  { id: 'kv-2', zone: 'z2', rack: 'r2' },
  { id: 'kv-3', zone: 'z3', rack: 'r3' },
  { id: 'kv-4', zone: 'z1', rack: 'r4' },
];

describe('migrations: drain and join move replicas make before break', () => {
  let cluster: TestCluster;
  const map = async () => (await cluster.api<MapViewV1>('GET', '/map')).body;
  const holders = (m: MapViewV1) => new Set(m.resources.flatMap((r) => r.partitions.flatMap((p) => p.replicas)));
  const operation = async (id: string) => (await cluster.api<OperationV1>('GET', `/operations/${id}`)).body;

  beforeAll(async () => {
    cluster = await TestCluster.start('migrate', NODES.slice(0, 3));
    await waitFor('three ALIVE nodes', async () => {
      const nodes = (await cluster.api<{ state: string }[]>('GET', '/nodes')).body;
      return nodes.length === 3 && nodes.every((n) => n.state === 'ALIVE');
    }, { timeoutMs: 30_000 });
    expect((await cluster.api('POST', '/resources', { name: 'orders', partitions: 12, replicationFactor: 2 })).status).toBe(201);
    await waitFor('every partition led', async () => (await map()).resources[0]?.partitions.every((p) => p.leader !== null));
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('plans without changing anything on a dry run', async () => {
    const before = await map();
    const plan = await cluster.api<RebalancePlanV1>('POST', '/resources/orders/rebalance', { dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({ resource: 'orders', dryRun: true, operationId: null });
    expect(await map()).toEqual(before);
  });

  it('rebalances onto a node that joins empty, throttled, until it holds its share', async () => {
    cluster.startNode(NODES[3]);
    const after = await waitFor('kv-4 to hold replicas and every move to finish', async () => {
      const m = await map();
      const orders = m.resources[0];
      const onNew = orders.partitions.filter((p) => p.replicas.includes('kv-4')).length;
      const settled = orders.partitions.every((p) => p.replicas.length === 2 && p.isr.length === 2 && p.leader === p.replicas[0]);
      const ops = (await cluster.api<OperationV1[]>('GET', '/operations')).body;
      const finished = ops.some((o) => o.kind === 'REBALANCE' && o.state === 'SUCCEEDED') && !ops.some((o) => o.state === 'RUNNING');
      return onNew >= 5 && settled && finished ? orders : undefined;
    }, { timeoutMs: 60_000 }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${cluster.logs()}`);
    });
    // 12 partitions × RF 2 over 4 nodes: 6 each (±1).
    const counts = new Map<string, number>();
    for (const p of after.partitions) for (const n of p.replicas) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const n of NODES.map((x) => x.id)) expect(Math.abs((counts.get(n) ?? 0) - 6)).toBeLessThanOrEqual(1);
  });

  it('drains a node: leadership first, never a leaderless partition, until the node is empty', async () => {
    const drained = 'kv-1';
    const reply = await cluster.api<NodeAdminReplyV1>('POST', `/nodes/${drained}/drain`);
    expect(reply.status).toBe(200);
    expect(reply.body.node.state).toBe('DRAINING');
    expect(reply.body.operationId).not.toBeNull();
    let samples = 0;
    let leaderless = 0;
    await waitFor('the drain to finish', async () => {
      const m = await map();
      samples++;
      leaderless += m.resources[0].partitions.filter((p) => p.leader === null).length;
      const op = await operation(reply.body.operationId!);
      return op.state === 'SUCCEEDED' && !holders(m).has(drained) ? op : undefined;
    }, { timeoutMs: 90_000, intervalMs: 50 });
    expect(samples).toBeGreaterThan(3);
    expect(leaderless).toBe(0);
    const op = await operation(reply.body.operationId!);
    expect(op.progress.done).toBe(op.progress.total);
    const m = await map();
    for (const p of m.resources[0].partitions) {
      expect(p.replicas).toHaveLength(2);
      expect(new Set(p.replicas).size).toBe(2);
    }
  });

  it('re-places a dead node’s replicas on request (grace delay overridden) until RF is restored', async () => {
    const victim = 'kv-2';
    cluster.nodes.get(victim)!.signal('SIGKILL');
    await waitFor('kv-2 DEAD', async () => (await cluster.api<{ id: string; state: string }[]>('GET', '/nodes')).body.find((n) => n.id === victim)?.state === 'DEAD', { timeoutMs: 15_000 });
    const reply = await cluster.api<NodeAdminReplyV1>('POST', `/nodes/${victim}/replace`);
    expect(reply.status).toBe(200);
    expect(reply.body.operationId).not.toBeNull();
    await waitFor('RF restored without kv-2', async () => {
      const m = await map();
      const op = await operation(reply.body.operationId!);
      const ok = m.resources[0].partitions.every((p) => !p.replicas.includes(victim) && p.isr.length === 2 && p.leader !== null);
      return ok && op.state === 'SUCCEEDED';
    }, { timeoutMs: 60_000 });
  });

  it('refuses a second migration of the same resource while one runs, and unknown nodes', async () => {
    expect((await cluster.api('POST', '/nodes/nope/drain')).status).toBe(404);
    expect((await cluster.api('POST', '/nodes/nope/replace')).status).toBe(404);
  });
});
