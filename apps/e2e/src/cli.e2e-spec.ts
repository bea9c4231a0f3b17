import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type MapViewV1, type OperationV1, type RebalancePlanV1 } from '@tessera/contracts';
import { WORKSPACE_ROOT, waitFor } from '@tessera/testing';
import { TestCluster } from './cluster';

const NODES = [
  { id: 'kv-1', zone: 'z1', rack: 'r1' },
  { id: 'kv-2', zone: 'z2', rack: 'r2' },
  { id: 'kv-3', zone: 'z3', rack: 'r3' },
];

interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The built `tessera` CLI against the running cluster: the must-show of the operator issue. */
describe('tessera CLI against a running cluster', () => {
  let cluster: TestCluster;
  let apiUrl: string;
  const map = async () => (await cluster.api<MapViewV1>('GET', '/map')).body;

  function tessera(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(WORKSPACE_ROOT, 'dist/apps/cli/main.js'), ...args],
        {
          cwd: WORKSPACE_ROOT,
          env: {
            PATH: process.env['PATH'] ?? '',
            TESSERA_API_URL: apiUrl,
            TESSERA_ADMIN_TOKEN: cluster.adminToken,
            ...env,
          },
          timeout: 90_000,
        },
        (error, out, err) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, out, err });
        },
      );
    });
  }

  beforeAll(async () => {
    cluster = await TestCluster.start('cli', NODES);
    apiUrl = cluster.apiUrl.replace(/\/api\/v1$/, '');
    await waitFor(
      'three ALIVE nodes',
      async () => {
        const nodes = (await cluster.api<{ state: string }[]>('GET', '/nodes')).body;
        return nodes.length === 3 && nodes.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 30_000 },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('creates a resource and reports the cluster with status, for people and for scripts', async () => {
    const created = await tessera([
      'resources',
      'create',
      'orders',
      '--partitions',
      '12',
      '--replication-factor',
      '2',
      '--json',
    ]);
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(created.out)).toMatchObject({ name: 'orders', partitions: 12 });
    await waitFor('every partition led and in sync', async () =>
      (await map()).resources[0]?.partitions.every((p) => p.leader !== null && p.isr.length === 2),
    );

    const json = await tessera(['status', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      healthy: true,
      nodes: { total: 3, byState: { ALIVE: 3 } },
      resources: 1,
      partitions: { total: 12, led: 12, underReplicated: 0, offline: 0 },
    });
    const human = await tessera(['status']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/ALIVE/);
    expect(human.out).toMatch(/12/);
  });

  it('plans a rebalance on a dry run and changes nothing', async () => {
    const before = await map();
    const json = await tessera(['rebalance', 'orders', '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.out) as RebalancePlanV1;
    expect(plan).toMatchObject({ resource: 'orders', dryRun: true, operationId: null });
    const human = await tessera(['rebalance', 'orders', '--dry-run']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/orders/);
    expect(await map()).toEqual(before);
  });

  it('drains a node and waits until it holds nothing, then takes it back', async () => {
    const drained = await tessera(['drain', 'kv-3', '--wait', '--interval', '0.2', '--json']);
    expect(drained).toMatchObject({ code: 0, err: expect.not.stringMatching(/error/i) });
    const { operation } = JSON.parse(drained.out) as { operation: OperationV1 };
    expect(operation.state).toBe('SUCCEEDED');
    expect(operation.progress.done).toBe(operation.progress.total);
    // --wait returned only once the node was empty: nothing left to wait for.
    const after = await map();
    expect(after.resources[0].partitions.some((p) => p.replicas.includes('kv-3'))).toBe(false);

    const back = await tessera(['undrain', 'kv-3', '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ node: { id: 'kv-3' } });
  });

  it('fails with one clear line and exit 1 on a wrong token or an unreachable coordinator', async () => {
    const token = await tessera(['status'], { TESSERA_ADMIN_TOKEN: 'wrong-token' });
    expect(token.code).toBe(1);
    expect(token.out).toBe('');
    expect(token.err.trim().split('\n')).toHaveLength(1);
    expect(token.err).toMatch(/unauthori[sz]ed|401|token/i);

    const url = await tessera(['status', '--json'], {
      TESSERA_API_URL: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(url.code).toBe(1);
    expect(url.out).toBe('');
    expect(url.err.trim().split('\n')).toHaveLength(1);
    expect(url.err).toMatch(/127\.0\.0\.1/);

    const usage = await tessera(['drain']);
    expect(usage.code).toBe(2);
  });
});
