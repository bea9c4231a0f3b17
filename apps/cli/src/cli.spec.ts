import { runCli } from './cli';
import { EXIT_USAGE } from './api/cli-error';
import { FakeCoordinator, bufferIo } from './testing/fake-coordinator';
import { node, operation, plan, resource, sampleMap } from './testing/fixtures';

describe(runCli.name, () => {
  let coordinator: FakeCoordinator;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    coordinator = new FakeCoordinator();
    env = { TESSERA_API_URL: await coordinator.start(), TESSERA_ADMIN_TOKEN: 'secret-token' };
  });

  afterEach(() => coordinator.stop());

  async function run(args: string[], interrupt = new AbortController().signal) {
    const io = bufferIo();
    const code = await runCli(['node', 'tessera', ...args], io, env, interrupt);
    return { code, out: io.out(), err: io.err() };
  }

  function serveCluster(): void {
    coordinator
      .on('GET', '/nodes', {
        status: 200,
        body: [node('n1'), node('n2'), node('n3', { state: 'SUSPECT' })],
      })
      .on('GET', '/map', { status: 200, body: sampleMap() })
      .on('GET', '/operations', { status: 200, body: [operation()] });
  }

  describe('status', () => {
    it('prints the summary for people', async () => {
      serveCluster();

      const sut = await run(['status']);

      expect(sut).toMatchObject({ code: 0, err: '' });
      expect(sut.out).toContain('Nodes        3 total: 2 ALIVE, 1 SUSPECT');
      expect(sut.out).toContain('Partitions   4 total: 3 led, 2 under-replicated, 1 offline');
      expect(sut.out).toContain('Operations   1 running');
      expect(coordinator.requests.every((r) => r.authorization === 'Bearer secret-token')).toBe(
        true,
      );
    });

    it('prints JSON for scripts', async () => {
      serveCluster();

      const sut = await run(['status', '--json']);

      expect(sut.code).toBe(0);
      expect(JSON.parse(sut.out)).toMatchObject({
        mapVersion: 7,
        healthy: false,
        nodes: { total: 3, byState: { ALIVE: 2, SUSPECT: 1 } },
        partitions: { total: 4, led: 3, underReplicated: 2, offline: 1 },
        operations: { running: 1 },
        warnings: [],
      });
    });

    it('still answers when only the operations backend fails', async () => {
      serveCluster();
      coordinator.on('GET', '/operations', {
        status: 503,
        body: { statusCode: 503, code: 'UNAVAILABLE', message: 'recovery did not answer' },
      });

      const sut = await run(['status']);

      expect(sut.code).toBe(0);
      expect(sut.out).toContain(
        'warning: operations unavailable: coordinator error: recovery did not answer',
      );
    });
  });

  describe('errors', () => {
    it('reports an unreachable coordinator on one line with exit 1', async () => {
      await coordinator.stop();
      coordinator = new FakeCoordinator();
      await coordinator.start(); // something to stop in afterEach; env still points at the old port

      const sut = await run(['nodes']);

      expect(sut.code).toBe(1);
      expect(sut.out).toBe('');
      expect(sut.err).toBe(
        `tessera: cannot reach the coordinator at ${env['TESSERA_API_URL']}: connection refused\n`,
      );
    });

    it('reports a refused token as unauthorized', async () => {
      coordinator.on('GET', '/nodes', {
        status: 401,
        body: { statusCode: 401, code: 'UNAUTHORIZED', message: 'invalid admin token' },
      });

      const sut = await run(['nodes', '--json']);

      expect(sut).toEqual({
        code: 1,
        out: '',
        err: 'tessera: unauthorized: invalid admin token\n',
      });
    });

    it('reports an unknown resource in the map as not found', async () => {
      coordinator.on('GET', '/map', { status: 200, body: sampleMap() });

      const sut = await run(['map', '--resource', 'nope']);

      expect(sut).toEqual({
        code: 1,
        out: '',
        err: 'tessera: not found: resource "nope" is not in the map\n',
      });
    });

    it.each([
      [
        ['status', '--jsn'],
        "tessera: unknown option '--jsn' (Did you mean --json?) (see 'tessera status --help')",
      ],
      [['staus'], "tessera: unknown command 'staus' (Did you mean status?) (see 'tessera --help')"],
      [['drain'], "tessera: missing required argument 'node' (see 'tessera drain --help')"],
      [
        ['resources', 'create', 'orders', '--partitions', 'many', '--replication-factor', '3'],
        "tessera: option '--partitions <n>' argument 'many' is invalid. must be a positive integer. " +
          "(see 'tessera resources create --help')",
      ],
      [
        ['resources', 'create', 'orders', '--partitions', '4'],
        "tessera: required option '--replication-factor <r>' not specified (see 'tessera resources create --help')",
      ],
      [
        ['resources', 'create', 'a.b', '--partitions', '4', '--replication-factor', '3'],
        'tessera: invalid resource name "a.b": use letters, digits, "_" or "-", 1–64 characters',
      ],
      [
        ['placement', 'plan'],
        "tessera: required option '-i, --input <file>' not specified (see 'tessera placement plan --help')",
      ],
    ])('exits 2 with one line for %j', async (args, line) => {
      const sut = await run(args);

      expect(sut).toEqual({ code: EXIT_USAGE, out: '', err: `${line}\n` });
      expect(coordinator.requests).toEqual([]);
    });

    it('prints help to stdout with exit 0, and exits 2 without a command', async () => {
      const help = await run(['--help']);
      const bare = await run([]);

      expect(help.code).toBe(0);
      expect(help.out).toContain('Usage: tessera');
      expect(help.out).toContain('placement');
      expect(bare.code).toBe(EXIT_USAGE);
      expect(bare.err).toContain('Usage: tessera');
    });
  });

  describe('resources', () => {
    it('creates a resource with its placement rules', async () => {
      coordinator.on('POST', '/resources', { status: 201, body: resource({ partitions: 8 }) });

      const sut = await run([
        'resources',
        'create',
        'orders',
        '--partitions',
        '8',
        '--replication-factor',
        '3',
        '--spread-by',
        'zone',
        '--require-tag',
        'ssd',
        '--require-tag',
        'eu',
      ]);

      expect(sut.code).toBe(0);
      expect(sut.out).toBe(
        'Created resource orders: 8 partitions, replication factor 3, spread by zone.\n',
      );
      expect(coordinator.requests[0]?.body).toEqual({
        name: 'orders',
        partitions: 8,
        replicationFactor: 3,
        placement: { spreadBy: 'zone', requireTags: ['ssd', 'eu'] },
      });
    });

    it('lists resources when no subcommand is given', async () => {
      coordinator.on('GET', '/resources', { status: 200, body: [resource()] });

      const sut = await run(['resources', '--json']);

      expect(sut.code).toBe(0);
      expect(JSON.parse(sut.out)).toEqual([resource()]);
    });
  });

  describe('rebalance', () => {
    it('asks for a dry run and prints the plan', async () => {
      coordinator.on('POST', '/resources/orders/rebalance', { status: 200, body: plan() });

      const sut = await run(['rebalance', 'orders', '--dry-run']);

      expect(sut.code).toBe(0);
      expect(coordinator.requests[0]?.body).toEqual({ dryRun: true });
      expect(sut.out).toContain('Rebalance plan for orders (dry run: nothing was changed)');
    });
  });

  describe('drain --wait', () => {
    function serveDrain(states: ('RUNNING' | 'SUCCEEDED' | 'FAILED')[]): void {
      let polls = 0;
      coordinator
        .on('POST', '/nodes/n3/drain', {
          status: 200,
          body: { node: node('n3', { state: 'DRAINING' }), operationId: 'op-1' },
        })
        .on('GET', '/operations/op-1', () => {
          const state = states[Math.min(polls++, states.length - 1)]!;
          const done = state === 'RUNNING' ? 3 : 12;
          return {
            status: 200,
            body: operation({
              state,
              progress: { done, total: 12 },
              finishedAt: state === 'RUNNING' ? null : new Date().toISOString(),
              error: state === 'FAILED' ? 'no node can take the replicas' : null,
            }),
          };
        });
    }

    it('polls until the operation finishes and prints the final JSON', async () => {
      serveDrain(['RUNNING', 'RUNNING', 'SUCCEEDED']);

      const sut = await run(['drain', 'n3', '--wait', '--json', '--interval', '0.01']);

      expect(sut.code).toBe(0);
      expect(sut.err).toBe('');
      expect(JSON.parse(sut.out)).toMatchObject({
        operationId: 'op-1',
        operation: { state: 'SUCCEEDED' },
      });
      expect(coordinator.requests.filter((r) => r.path === '/operations/op-1')).toHaveLength(3);
    });

    it('exits 1 with the reason when the drain fails', async () => {
      serveDrain(['RUNNING', 'FAILED']);

      const sut = await run(['drain', 'n3', '--wait', '--interval', '0.01']);

      expect(sut.code).toBe(1);
      expect(sut.out).toContain('DRAIN n3 failed after');
      expect(sut.err).toBe(
        'tessera: operation op-1 (DRAIN n3) FAILED: no node can take the replicas\n',
      );
    });

    it('keeps polling through a brief outage, but not past a hard error', async () => {
      serveDrain(['SUCCEEDED']);
      let polls = 0;
      coordinator.on('GET', '/operations/op-1', () =>
        ++polls === 1
          ? {
              status: 503,
              body: { statusCode: 503, code: 'UNAVAILABLE', message: 'recovery restarting' },
            }
          : {
              status: 200,
              body: operation({ state: 'SUCCEEDED', progress: { done: 12, total: 12 } }),
            },
      );

      const recovered = await run(['drain', 'n3', '--wait', '--json', '--interval', '0.01']);
      coordinator.on('GET', '/operations/op-1', {
        status: 404,
        body: { statusCode: 404, code: 'NOT_FOUND', message: 'operation op-1 does not exist' },
      });
      const lost = await run(['drain', 'n3', '--wait', '--interval', '0.01']);

      expect(recovered.code).toBe(0);
      expect(polls).toBe(2);
      expect(lost.code).toBe(1);
      expect(lost.err).toBe('tessera: not found: operation op-1 does not exist\n');
    });

    it('stops waiting on Ctrl-C with exit 130 and says the drain goes on', async () => {
      serveDrain(['RUNNING']);
      const interrupt = new AbortController();
      coordinator.on('GET', '/operations/op-1', () => {
        interrupt.abort();
        return { status: 200, body: operation() };
      });

      const sut = await run(['drain', 'n3', '--wait', '--interval', '5'], interrupt.signal);

      expect(sut.code).toBe(130);
      expect(sut.err).toBe(
        'tessera: stopped waiting; operation op-1 continues in the background (tessera operations op-1)\n',
      );
    });
  });

  describe('operations --watch', () => {
    it('prints each change as one JSON line until Ctrl-C, then exits 0', async () => {
      const interrupt = new AbortController();
      let polls = 0;
      coordinator.on('GET', '/operations', () => {
        polls++;
        if (polls === 4) interrupt.abort();
        // Changes once, between the second and the third poll.
        return {
          status: 200,
          body: [operation({ progress: { done: polls < 3 ? 1 : 2, total: 12 } })],
        };
      });

      const sut = await run(
        ['operations', '--watch', '--json', '--interval', '0.01'],
        interrupt.signal,
      );

      expect(sut.code).toBe(0);
      const snapshots = sut.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as [{ progress: { done: number } }]);
      expect(snapshots.map(([op]) => op.progress.done)).toEqual([1, 2]);
    });
  });

  describe('operations ID --grace', () => {
    it('changes a pending re-replication’s grace delay and prints it', async () => {
      const id = '6f1b2c3d-0000-4000-8000-000000000001';
      coordinator.on('PATCH', `/operations/${id}`, (r) => ({
        status: 200,
        body: operation({ id, kind: 'REREPLICATE', state: 'PENDING', subject: 'n3', dueAt: '2026-01-01T00:00:00.000Z', ...(r.body as object) }),
      }));

      const sut = await run(['operations', id, '--grace', '0', '--json']);

      expect(sut.code).toBe(0);
      expect(JSON.parse(sut.out)).toMatchObject({ id, kind: 'REREPLICATE', state: 'PENDING' });
      expect(coordinator.requests.find((r) => r.method === 'PATCH')?.body).toEqual({ graceMs: 0 });
      coordinator.on('GET', '/operations', {
        status: 200,
        body: [operation({ id, kind: 'REREPLICATE', state: 'PENDING', progress: { done: 0, total: 0 }, dueAt: new Date(Date.now() + 90_000).toISOString() })],
      });
      expect((await run(['operations'])).out).toMatch(/REREPLICATE .* PENDING .* starts in 1m( 29s| 30s)?/);
    });

    it('refuses a bad delay or a missing id as usage errors, asking nothing', async () => {
      const bad = await run(['operations', 'op-1', '--grace', 'soon']);
      const noId = await run(['operations', '--grace', '5']);

      expect(bad.code).toBe(EXIT_USAGE);
      expect(bad.err).toContain('must be a whole number of milliseconds');
      expect(noId.code).toBe(EXIT_USAGE);
      expect(noId.err).toBe('tessera: --grace needs an operation id\n');
      expect(coordinator.requests).toHaveLength(0);
    });
  });
});
