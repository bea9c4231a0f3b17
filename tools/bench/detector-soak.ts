/**
 * Detector soak: can a busy machine make health declare a live node SUSPECT or DEAD? Starts the
 * fleet's services (dist/apps/*) with SOAK_NODES light node agents (or kv-nodes), waits until
 * every node is ALIVE, then loads every core — one busy-looping process per core plus a process
 * planning a 100,000-partition placement over and over — for SOAK_MINUTES. Nobody is killed, so
 * every change to SUSPECT or DEAD is a false one. Prints a table and writes
 * bench/results/detector-soak.json.
 *
 *   npm run build && npm run soak:detector
 *
 * SOAK_MINUTES (10), SOAK_NODES (5), SOAK_NODE_KIND (`light`, or `kv` for the real kv-nodes),
 * SOAK_BURNERS (one per core), SOAK_OUT (another path for the JSON), SOAK_LOG_DIR (keep every
 * process's log there).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import Table from 'cli-table3';
import { connect } from 'nats';
import { WORKSPACE_ROOT, waitFor } from '@tessera/testing';
import { type KvNodeSpec, type ObservedEvent, TestCluster } from '../../apps/e2e/src/cluster';
import { startLightNode } from './failover/light-node';
import { type LoadProcess, startBurner, startPlacementLoop } from './detector-soak/load';
import { type Bucket, bucketDelta, bucketPercentile, parseBuckets } from './detector-soak/metrics';

const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 10);
const NODE_COUNT = Number(process.env['SOAK_NODES'] ?? 5);
const NODE_KIND = process.env['SOAK_NODE_KIND'] === 'kv' ? 'kv' : 'light';
const BURNERS = Number(process.env['SOAK_BURNERS'] ?? cpus().length);
const LAG = 'tessera_health_loop_lag_ms';

const log = (message: string) => process.stderr.write(`[soak:detector] ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

interface Change {
  at: string;
  nodeId: string;
  from: string | null;
  to: string;
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function counter(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.trim().split(/\s+/).pop()) : 0;
}

async function main(): Promise<void> {
  if (!(MINUTES > 0) || !(NODE_COUNT >= 1) || !(BURNERS >= 0))
    throw new Error('SOAK_MINUTES must be > 0, SOAK_NODES ≥ 1, SOAK_BURNERS ≥ 0');
  const nodes: KvNodeSpec[] = Array.from({ length: NODE_COUNT }, (_, i) => ({
    id: `soak-${i + 1}`,
    zone: `z${(i % 5) + 1}`,
    rack: `r${i + 1}`,
  }));
  log(`starting the services and ${NODE_COUNT} ${NODE_KIND} nodes`);
  const cluster = await TestCluster.start(`soak${NODE_KIND}`, {
    nodes,
    ...(NODE_KIND === 'light'
      ? {
          nodeLauncher: (node: KvNodeSpec, env: Record<string, string>) =>
            startLightNode(node.id, env),
        }
      : {}),
  });
  const load: LoadProcess[] = [];
  let closeNc = async (): Promise<void> => undefined;
  const stopLoad = async () => {
    await Promise.all(load.splice(0).map((p) => p.stop()));
  };
  const onSignal = () => void stopLoad().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const events = await cluster.collectEvents();
    const nc = await connect({ servers: cluster.env.natsUrl });
    closeNc = () => nc.close();
    const healthPort = cluster.ports.get('health');
    if (healthPort === undefined) throw new Error('no health port');
    const livenessChanges = (since: number): Change[] =>
      events.of('events.internal.node.liveness', since).map((e: ObservedEvent) => ({
        at: new Date(e.at).toISOString(),
        nodeId: String(e.body['nodeId']),
        from: typeof e.body['previous'] === 'string' ? e.body['previous'] : null,
        to: String(e.body['state']),
      }));
    await waitFor(
      `${NODE_COUNT} nodes ALIVE`,
      () => {
        const alive = new Set(
          livenessChanges(0)
            .filter((c) => c.to === 'ALIVE')
            .map((c) => c.nodeId),
        );
        return nodes.every((n) => alive.has(n.id));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // Settle: the bootstrap window gives way to real samples before the load starts.
    await sleep(5_000);

    for (let i = 0; i < BURNERS; i++) load.push(startBurner(i + 1));
    load.push(startPlacementLoop());
    const startedAt = Date.now();
    const before = await scrape(healthPort);
    const loadAverages: number[] = [];
    const maxPhi = new Map<string, number>(nodes.map((n) => [n.id, 0]));
    const until = startedAt + MINUTES * 60_000;
    log(`load on: ${BURNERS} burners + a 100k-partition placement loop, for ${MINUTES} min`);
    let nextReport = startedAt + 60_000;
    while (Date.now() < until) {
      // Phi as health sees it, once a second: how close anyone came to the suspect level.
      const listed = await nc
        .request(`tessera.v1.${cluster.env.cluster}.health.node.list`, '{}', { timeout: 2_000 })
        .then((m) => m.json<{ nodes?: { nodeId: string; phi: number | null }[] }>().nodes ?? [])
        .catch(() => []);
      for (const n of listed) maxPhi.set(n.nodeId, Math.max(maxPhi.get(n.nodeId) ?? 0, n.phi ?? 0));
      await sleep(1_000);
      if (Date.now() >= nextReport) {
        nextReport += 60_000;
        loadAverages.push(loadavg()[0]);
        const changes = livenessChanges(startedAt).filter((c) => c.to !== 'ALIVE');
        log(
          `${Math.round((Date.now() - startedAt) / 60_000)} min: load average ${round1(loadavg()[0])}, ` +
            `${changes.length} false suspicions/deaths so far, ${load.at(-1)?.completed() ?? 0} placements`,
        );
      }
    }
    const after = await scrape(healthPort);
    const placements = load.at(-1)?.completed() ?? 0;
    await stopLoad();

    const changes = livenessChanges(startedAt);
    const falseSuspect = changes.filter((c) => c.to === 'SUSPECT');
    const falseDead = changes.filter((c) => c.to === 'DEAD');
    const lag: Bucket[] = bucketDelta(parseBuckets(before, LAG), parseBuckets(after, LAG));
    const ticks = lag.at(-1)?.count ?? 0;
    const lagP = (p: number) => bucketPercentile(lag, p);
    const stalls =
      counter(after, 'tessera_health_pause_compensations_total') -
      counter(before, 'tessera_health_pause_compensations_total');
    const heartbeats =
      counter(after, 'tessera_heartbeats_received_total') -
      counter(before, 'tessera_heartbeats_received_total');

    const bound = (x: number | null) =>
      x === null ? '–' : Number.isFinite(x) ? `≤ ${x} ms` : `> ${lag.at(-2)?.le ?? 0} ms`;
    const table = new Table({ style: { head: [], border: [] }, head: ['measure', 'value'] });
    table.push(
      ['duration', `${MINUTES} min`],
      [
        'nodes',
        `${NODE_COUNT} ${NODE_KIND === 'light' ? 'light node agents' : 'kv-nodes'}, nobody killed`,
      ],
      ['load', `${BURNERS} CPU burners + 100k-partition placement loop (${placements} placements)`],
      ['load average (1 min), per minute', loadAverages.map(round1).join(' ')],
      ['false DEAD', String(falseDead.length)],
      ['false SUSPECT', String(falseSuspect.length)],
      ['heartbeats received', String(heartbeats)],
      [
        'highest phi seen (sampled each second; suspect at 3)',
        String(round1(Math.max(...maxPhi.values()))),
      ],
      [
        'health loop lag p50 / p99 / p99.9 (bucket bound)',
        `${bound(lagP(50))} / ${bound(lagP(99))} / ${bound(lagP(99.9))}`,
      ],
      ['health ticks / stalls caught up (lag > max loop lag)', `${ticks} / ${stalls}`],
    );
    process.stdout.write(
      `\nDetector soak on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}\n${table.toString()}\n`,
    );
    for (const c of [...falseDead, ...falseSuspect])
      process.stdout.write(`  ${c.at} ${c.nodeId} ${c.from} → ${c.to}\n`);

    const file =
      process.env['SOAK_OUT'] ?? join(WORKSPACE_ROOT, 'bench', 'results', 'detector-soak.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        {
          generatedAt: new Date().toISOString(),
          machine: {
            cpu: cpus()[0]?.model ?? 'unknown',
            cores: cpus().length,
            memoryGiB: Math.round(totalmem() / 2 ** 30),
            kernel: release(),
            node: process.version,
          },
          setup: {
            minutes: MINUTES,
            nodes: NODE_COUNT,
            nodeKind: NODE_KIND,
            burners: BURNERS,
            placementLoop: '100,000 partitions × RF 3 on 1,000 nodes, planned again and again',
            settings: 'defaults of every service',
          },
          loadAveragePerMinute: loadAverages.map(round1),
          placements,
          falseDead: falseDead.length,
          falseSuspect: falseSuspect.length,
          changes,
          heartbeats,
          maxPhiSampled: Object.fromEntries([...maxPhi].map(([id, phi]) => [id, round1(phi)])),
          healthLoopLagMs: { p50: lagP(50), p99: lagP(99), p999: lagP(99.9), ticks, buckets: lag },
          stallsCaughtUp: stalls,
        },
        (_key, value: unknown) => (value === Number.POSITIVE_INFINITY ? '+Inf' : value),
        2,
      ) + '\n',
    );
    log(`wrote ${file}`);
  } finally {
    await stopLoad();
    await closeNc().catch(() => undefined);
    const logDir = process.env['SOAK_LOG_DIR'];
    if (logDir) {
      // Every process's log (health's names each SUSPECT/DEAD with its silence and window).
      const procs = [
        ...[...cluster.instances.values()].map((i) => i.proc),
        ...cluster.nodes.values(),
      ];
      mkdirSync(logDir, { recursive: true });
      for (const p of procs) writeFileSync(join(logDir, `${p.name}.log`), p.output());
      log(`logs of ${procs.length} processes in ${logDir}`);
    }
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `soak:detector failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
