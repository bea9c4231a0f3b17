/**
 * Failover benchmark: the real fleet (built apps, `dist/apps/*`) with five kv-nodes, a resource of
 * 1,000 and then 10,000 partitions (RF 3), waited on until every partition is led, in sync and
 * answering kv gets from its leader (the kv-nodes' set-up of a new resource is over). Each round
 * SIGKILLs the kv-node leading the most partitions and times detection, the election's commit,
 * publication and the end-to-end failover (kill → the last `events.partition.leader` for its
 * partitions), then restarts it and waits for the ISR to be whole again. Then it kills the active coordinator a few times and times the
 * standby's takeover. Prints a table (p50/p99 by nearest rank) beside the anchors' defaults and
 * writes bench/results/failover.json.
 *
 *   npm run build && npm run bench:failover
 *
 * BENCH_SIZES (default 1000,10000), BENCH_ROUNDS (5), BENCH_TAKEOVER_ROUNDS (5), BENCH_NODES
 * (default `kv`; `kv-nice` runs the kv-nodes at nice 10, as if on machines of their own;
 * `light` runs bare node agents without data instead of kv-nodes, to time the control plane
 * alone; a comma-separated list runs each). Every figure is wall-clock on this machine with the
 * default settings of every service. BENCH_OUT writes the JSON elsewhere (exploratory runs);
 * BENCH_LOG_DIR keeps every process's log.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import Table from 'cli-table3';
import { WORKSPACE_ROOT } from '@tessera/testing';
import { TestCluster } from '../../apps/e2e/src/cluster';
import { controllerTakeoverRound, type TakeoverRound } from './failover/controller-takeover';
import {
  type Fleet,
  log,
  NODE_COUNT,
  type NodeKind,
  nodeKindLabel,
  RF,
  startFleet,
  stopFleet,
} from './failover/fleet';
import { nodeFailoverRound, type NodeFailoverRound } from './failover/node-failover';
import { ms, summarize, type Summary } from './failover/stats';

const NODE_KINDS: NodeKind[] = (process.env['BENCH_NODES'] ?? 'kv').split(',').map((s) => {
  const kind = s.trim();
  if (kind === 'kv' || kind === 'kv-nice' || kind === 'light') return kind;
  throw new Error(`BENCH_NODES: unknown node kind "${kind}" (kv, kv-nice or light)`);
});
const SIZES = (process.env['BENCH_SIZES'] ?? '1000,10000').split(',').map((s) => Number(s.trim()));
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const TAKEOVER_ROUNDS = Number(process.env['BENCH_TAKEOVER_ROUNDS'] ?? 5);

/** Default detection/fencing of the systems Tessera is compared with (their documented defaults). */
const ANCHORS = [
  {
    system: 'Kafka KRaft',
    setting: 'broker.session.timeout.ms',
    seconds: 9,
    meaning: 'a silent broker is fenced (its partitions move) after 9 s',
  },
  {
    system: 'Apache Helix',
    setting: 'ZooKeeper session timeout',
    seconds: 30,
    meaning: 'a participant is gone only when its 30 s session expires',
  },
  {
    system: 'TiKV PD',
    setting: 'store heartbeat',
    seconds: 20,
    meaning: 'a store without heartbeats is marked Disconnected after 20 s',
  },
];

type Metric = keyof Pick<
  NodeFailoverRound,
  | 'detectionMs'
  | 'deadEventMs'
  | 'operationStartedMs'
  | 'electionCommitMs'
  | 'electedMs'
  | 'projectedMs'
  | 'firstLeaderMs'
  | 'publishMs'
  | 'endToEndMs'
  | 'rfRestoredAfterRestartMs'
>;

const METRICS: { key: Metric; label: string }[] = [
  { key: 'detectionMs', label: 'detection (kill → health: DEAD)' },
  { key: 'deadEventMs', label: 'kill → events.node.state DEAD received' },
  { key: 'operationStartedMs', label: 'kill → recovery operation started' },
  { key: 'electionCommitMs', label: 'election commit (consensus batch)' },
  { key: 'electedMs', label: 'kill → election committed' },
  { key: 'projectedMs', label: 'kill → map projected (coordinator)' },
  { key: 'firstLeaderMs', label: 'kill → first new-leader event' },
  { key: 'publishMs', label: 'publish (commit → last new-leader event)' },
  { key: 'endToEndMs', label: 'end to end (kill → last new-leader event)' },
  { key: 'rfRestoredAfterRestartMs', label: 'restart → RF restored' },
];

interface Config {
  nodes: NodeKind;
  partitions: number;
}

const label = (c: Config) =>
  `${c.nodes === 'kv' ? '' : `${c.nodes} `}${c.partitions.toLocaleString('en')}`;

/** On a machine this busy, nine services booting at once can miss the 30 s readiness wait. */
async function startFleetWithRetries(config: Config, attempts = 3): Promise<Fleet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startFleet(config.partitions, config.nodes);
    } catch (error) {
      if (attempt >= attempts) throw error;
      log(`${label(config)}: the fleet did not come up (${String(error)}); trying again`);
    }
  }
}

async function main(): Promise<void> {
  const configs: Config[] = NODE_KINDS.flatMap((nodes) =>
    SIZES.map((partitions) => ({ nodes, partitions })),
  );
  const failovers = new Map<Config, NodeFailoverRound[]>();
  const takeovers: TakeoverRound[] = [];
  const notes: string[] = [];
  // Ctrl-C (or a CI timeout) must not leave a fleet of processes behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the fleet`);
      void TestCluster.stopRunning().finally(() => process.exit(130));
    });
  }
  for (const config of configs) {
    log(
      `starting the fleet: ${NODE_COUNT} ${nodeKindLabel(config.nodes)}, ${config.partitions} partitions × RF ${RF}`,
    );
    const rounds: NodeFailoverRound[] = [];
    failovers.set(config, rounds);
    const fleet = await startFleetWithRetries(config).catch((error: unknown) => {
      log(`${label(config)}: the fleet did not come up: ${String(error)}`);
      notes.push(`${label(config)}: the fleet did not come up: ${String(error)}`);
      return null;
    });
    if (fleet === null) continue;
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const r = await nodeFailoverRound(fleet, round).catch((error: unknown) => {
          // A cluster that cannot settle is a result too: keep the rounds measured so far.
          log(`${label(config)}, round ${round} abandoned: ${String(error)}`);
          notes.push(`${label(config)}: round ${round} abandoned: ${String(error)}`);
          return null;
        });
        if (r === null) break;
        rounds.push(r);
        log(
          `${label(config)}, round ${round}: killed ${r.victim} (led ${r.moved}): detection ${ms(r.detectionMs)}, ` +
            `elected ${ms(r.electedMs)}, end to end ${ms(r.endToEndMs)}, RF restored ${ms(r.rfRestoredAfterRestartMs)} after the restart`,
        );
      }
      for (let round = 1; round <= TAKEOVER_ROUNDS; round++) {
        const t = await controllerTakeoverRound(fleet, takeovers.length + 1).catch(
          (error: unknown) => {
            notes.push(
              `${label(config)}: controller takeover ${round} abandoned: ${String(error)}`,
            );
            return null;
          },
        );
        if (t === null) break;
        takeovers.push(t);
        log(
          `controller takeover ${t.round}: ${t.killed} → ${t.successor} in ${ms(t.takeoverMs)} (term ${t.termBefore} → ${t.termAfter})`,
        );
      }
    } catch (error) {
      process.stderr.write(fleet.cluster.logs().slice(-30_000));
      throw error;
    } finally {
      await stopFleet(fleet);
    }
  }

  const summaries = new Map<Config, Record<Metric, Summary>>();
  for (const [config, rounds] of failovers) {
    summaries.set(
      config,
      Object.fromEntries(
        METRICS.map(({ key }) => [key, summarize(rounds.map((r) => r[key]))]),
      ) as Record<Metric, Summary>,
    );
  }
  const takeover = summarize(takeovers.map((t) => t.takeoverMs));

  const style = { head: [], border: [] };
  const table = new Table({
    style,
    head: ['', ...configs.flatMap((c) => [`${label(c)} p50`, `${label(c)} p99`])],
  });
  for (const { key, label: what } of METRICS) {
    table.push([
      what,
      ...configs.flatMap((c) => [
        ms(summaries.get(c)?.[key].p50 ?? null),
        ms(summaries.get(c)?.[key].p99 ?? null),
      ]),
    ]);
  }
  table.push([
    'partitions with the full ISR at the kill (mean)',
    ...configs.flatMap((c) => {
      const rounds = failovers.get(c) ?? [];
      return [
        rounds.length
          ? String(Math.round(rounds.reduce((a, r) => a + r.fullIsrAtKill, 0) / rounds.length))
          : '–',
        '',
      ];
    }),
  ]);
  table.push([
    'partitions moved per kill (mean)',
    ...configs.flatMap((c) => {
      const rounds = failovers.get(c) ?? [];
      return [
        rounds.length
          ? String(Math.round(rounds.reduce((a, r) => a + r.moved, 0) / rounds.length))
          : '–',
        '',
      ];
    }),
  ]);
  const takeoverTable = new Table({
    style,
    head: ['controller takeover (kill active → standby active)', 'p50', 'p99', 'n'],
  });
  takeoverTable.push([
    'Tessera (lease TTL 3 s, renewed every 500 ms)',
    ms(takeover.p50),
    ms(takeover.p99),
    String(takeover.n),
  ]);
  const anchorTable = new Table({
    style,
    head: ['anchor (default, not measured here)', 'setting', 'time to act on a dead node'],
  });
  for (const a of ANCHORS) anchorTable.push([a.system, a.setting, `${a.seconds} s`]);

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 10) / 10),
  };
  process.stdout.write(
    `\nFailover on ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}; ${NODE_COUNT} data nodes, RF ${RF}, ` +
      `${ROUNDS} kills per column (nearest-rank p99: with ${ROUNDS} samples, the slowest)\n` +
      `${table.toString()}\n${takeoverTable.toString()}\n${anchorTable.toString()}\n`,
  );

  const file =
    process.env['BENCH_OUT'] ?? join(WORKSPACE_ROOT, 'bench', 'results', 'failover.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine,
        setup: {
          dataNodes: NODE_COUNT,
          replicationFactor: RF,
          coordinators: 2,
          recoveries: 2,
          rounds: ROUNDS,
          settings: 'defaults of every service',
          nodes: {
            kv: 'the real kv-nodes (dist/apps/kv-node)',
            light: 'node agents without data: the control plane alone',
          },
        },
        percentiles: 'nearest rank over the rounds',
        notes,
        nodeFailover: configs.map((c) => ({
          ...c,
          summary: summaries.get(c),
          rounds: failovers.get(c),
        })),
        controllerTakeover: { summary: takeover, rounds: takeovers },
        anchors: ANCHORS,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:failover failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
