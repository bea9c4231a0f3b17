/**
 * Routing-client benchmark: how fast `PartitionMapClient` answers key → partition → leader, and
 * how soon 100 subscribed clients route to a new leader after the change commits, each beside
 * the baseline users would otherwise write. Prints tables and writes bench/results/client.json.
 *
 *   npm run build && npm run bench:client
 *
 * 1. Lookups, in process, on a map of 10,000 partitions: `route()`, the bare murmur3 partitioner,
 *    and a scan of the `GET /api/v1/map` body per lookup; then, on the live fleet, a
 *    `GET /api/v1/map` per lookup (a stateless router).
 * 2. Propagation: the real fleet (built apps as processes: 5 services, 3 kv-nodes, own database
 *    and cluster), a resource, and 100 PartitionMapClients (each its own NATS connection) spread
 *    over a few worker processes. Rounds change leaders for real (drain a node until empty, then
 *    return it; SIGKILL the node leading most partitions, then restart it). For each client and
 *    each leader change: from the `at` of the map message carrying it (`events.map` with the
 *    version's entries, or an `events.map.changes` chunk; stamped in the coordinator's map-change
 *    transaction; same machine, same clock) to the moment the client's `route()` returns the new
 *    epoch. Baseline: the same clients without events, refetching the map every second (a Helix
 *    spectator without watches, Kafka's metadata refresh). Previous behaviour: the same clients
 *    fed `events.map` without its delta fields or entries (as an older coordinator sent it), so
 *    every new map version makes every client refetch the map.
 *    Also reported: the message's own delivery time (from `at` to a bare subscriber in a worker:
 *    the floor for any client), how much of it is the coordinator's (from `at` to publication on
 *    NATS, its `tessera_outbox_publish_delay_seconds` histogram scraped around each round, as
 *    bucket upper bounds) and the worker processes' event-loop delay p99 (the subscribers' share
 *    on a CPU shared with the fleet), GET /map calls per client, and routes that went back to an
 *    older leader after a client had applied the newer one.
 *
 *    Each mode starts with a warm-up round (a drain), printed and saved but left out of the
 *    mode's totals: the first drain of a run is the first time the fleet's processes and the
 *    clients run their migration and delta code, and in every recorded run it was the slowest
 *    (JIT compilation on the same two cores), as benchmark harnesses' warm-up iterations expect.
 *
 * Environment: BENCH_CLIENTS (100), BENCH_WORKERS (4), BENCH_PARTITIONS (32), BENCH_POLL_MS
 * (1000), BENCH_WARMUP (`drain:kv-1`; `none` for no warm-up round), BENCH_ROUNDS
 * (`drain:kv-1,drain:kv-2,drain:kv-3,kill`), BENCH_MODES (`events,refetch,poll`),
 * BENCH_LOOKUP_PARTITIONS (10000).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { HttpMapSource } from '@tessera/client';
import { BenchFleet, RESOURCE, type Round, roundName } from './client/fleet';
import { type LookupRow, measureLookups, sampleKeys, scanLeader } from './client/lookup';
import {
  type ClientMode,
  type FromWorker,
  type Sample,
  type WorkerConfig,
  isFromWorker,
} from './client/protocol';
import {
  type BucketQuantiles,
  type Buckets,
  bucketQuantiles,
  type Distribution,
  distribution,
  parseBuckets,
} from './client/stats';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

const CLIENTS = env('BENCH_CLIENTS', 100);
const WORKERS = Math.min(env('BENCH_WORKERS', 4), CLIENTS);
const PARTITIONS = env('BENCH_PARTITIONS', 32);
const POLL_MS = env('BENCH_POLL_MS', 1000);
const LOOKUP_PARTITIONS = env('BENCH_LOOKUP_PARTITIONS', 10_000);
const GOAL_P99_MS = 25;

function parseRounds(variable: string, spec: string): Round[] {
  return spec.split(',').map((item) => {
    const [kind, node] = item.trim().split(':');
    if (kind === 'kill') return { kind: 'kill' };
    if (kind === 'drain' && node) return { kind: 'drain', node };
    throw new Error(`${variable}: cannot read "${item}" (drain:NODE or kill)`);
  });
}
const MODES = (process.env['BENCH_MODES'] ?? 'events,refetch,poll')
  .split(',')
  .map((m): ClientMode => {
    if (m === 'events' || m === 'refetch' || m === 'poll') return m;
    throw new Error(`BENCH_MODES: unknown mode "${m}" (events, refetch, poll)`);
  });
const ROUNDS = parseRounds(
  'BENCH_ROUNDS',
  process.env['BENCH_ROUNDS'] ?? 'drain:kv-1,drain:kv-2,drain:kv-3,kill',
);
const WARMUP_SPEC = process.env['BENCH_WARMUP'] ?? 'drain:kv-1';
const WARMUP = WARMUP_SPEC === 'none' ? [] : parseRounds('BENCH_WARMUP', WARMUP_SPEC);

const machine = `${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
const loadAtStart = loadavg()[0];

// ---- workers ------------------------------------------------------------------------------

type Report = Extract<FromWorker, { type: 'report' }>;

/** One worker process hosting a share of the clients. */
class ClientWorker {
  private readonly waiting: ((m: FromWorker) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      if (message.type === 'error') console.error(`client worker ${child.pid}: ${message.message}`);
      this.waiting.shift()?.(message);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static start(config: WorkerConfig): ClientWorker {
    const child = fork(
      join(__dirname, '../scripts/ts-run.js'),
      [join(__dirname, 'client/propagation.worker.ts')],
      { env: { ...process.env, BENCH_WORKER: JSON.stringify(config) }, stdio: 'inherit' },
    );
    return new ClientWorker(child);
  }

  private next(timeoutMs: number): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${this.child.pid} did not answer`)),
        timeoutMs,
      );
      this.waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async ready(): Promise<void> {
    const m = await this.next(120_000);
    if (m.type !== 'ready') throw new Error(`worker ${this.child.pid}: ${JSON.stringify(m)}`);
  }

  async report(): Promise<Report> {
    const answer = this.next(30_000);
    this.child.send({ type: 'report' });
    const m = await answer;
    if (m.type !== 'report') throw new Error(`worker ${this.child.pid}: ${JSON.stringify(m)}`);
    return m;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.connected) {
      this.child.send({ type: 'stop' });
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- propagation --------------------------------------------------------------------------

interface RoundResult {
  mode: ClientMode;
  round: string;
  /** A warm-up round: reported, left out of the mode's totals. */
  warmUp: boolean;
  /** Leader changes of the resource (new epochs) the clients had to apply. */
  leaderChanges: number;
  samples: number;
  /** Client × change pairs never applied by the end of the round. */
  notApplied: number;
  latencyMs: Distribution;
  /** From `at` to the event reaching a bare subscriber (a worker's observer): the server's share. */
  deliveryMs: Distribution;
  /** GET /api/v1/map per client over the round. */
  mapFetchesPerClient: number;
  fetchFailures: number;
  /** Client × partition × epoch whose route went back to an older leader after applying it. */
  wentBack: number;
  via: Record<string, number>;
  /**
   * The coordinator's share: from a leader event's `at` to its publication on NATS
   * (`tessera_outbox_publish_delay_seconds`, bucket upper bounds).
   */
  publishDelayMs: BucketQuantiles;
  /** Worst event-loop delay p99 among the client worker processes (the subscribers' share). */
  clientLoopDelayP99Ms: number;
  /** The coordinator's event-loop delay p99 over the round. */
  coordinatorLoopDelayP99Ms: number;
}

interface CoordinatorScrape {
  /** Its publish-delay histogram for leader events. */
  buckets: Buckets;
  /** Its event-loop delay p99 since the previous scrape (prom-client resets it at each). */
  loopDelayP99Ms: number;
}

/** Scrapes the coordinator's /metrics. */
async function scrapeCoordinator(fleet: BenchFleet): Promise<CoordinatorScrape> {
  try {
    const text = await (await fetch(`${fleet.apiBase}/metrics`)).text();
    const lag = /^tessera_process_nodejs_eventloop_lag_p99_seconds\{[^}]*\} (\S+)$/m.exec(text);
    // prom-client samples every 10 ms (its default) and its values include that interval.
    const sampleMs = 10;
    return {
      buckets: parseBuckets(
        text,
        'tessera_outbox_publish_delay_seconds',
        'subject="events.partition.leader"',
      ),
      loopDelayP99Ms: lag ? Math.max(0, Number(lag[1]) * 1000 - sampleMs) : Number.NaN,
    };
  } catch {
    return { buckets: new Map(), loopDelayP99Ms: Number.NaN };
  }
}

async function runMode(
  fleet: BenchFleet,
  mode: ClientMode,
): Promise<{
  warmUps: RoundResult[];
  rounds: RoundResult[];
  all: Sample[];
  deliveries: number[];
  publishDelayMs: BucketQuantiles;
}> {
  const per = Math.ceil(CLIENTS / WORKERS);
  const workers: ClientWorker[] = [];
  for (let first = 0; first < CLIENTS; first += per) {
    workers.push(
      ClientWorker.start({
        mode,
        clients: Math.min(per, CLIENTS - first),
        firstClient: first,
        natsUrl: fleet.cluster.env.natsUrl,
        cluster: fleet.cluster.env.cluster,
        apiUrl: fleet.apiBase,
        token: fleet.cluster.adminToken,
        resource: RESOURCE,
        pollMs: POLL_MS,
      }),
    );
  }
  const warmUps: RoundResult[] = [];
  const rounds: RoundResult[] = [];
  const all: Sample[] = [];
  const allDeliveries: number[] = [];
  let modeBefore: Buckets = new Map();
  try {
    await Promise.all(workers.map((w) => w.ready()));
    // Drop whatever start-up produced (initial fetches) before the first round.
    await Promise.all(workers.map((w) => w.report()));
    const plan = [
      ...WARMUP.map((round) => ({ round, warmUp: true })),
      ...ROUNDS.map((round) => ({ round, warmUp: false })),
    ];
    for (const { round, warmUp } of plan) {
      // The mode's publish-delay totals start after its warm-up, as its samples do.
      if (!warmUp && rounds.length === 0) modeBefore = (await scrapeCoordinator(fleet)).buckets;
      let victim: string | undefined;
      const started = Date.now();
      const before = await scrapeCoordinator(fleet);
      if (round.kind === 'drain') await fleet.drainAndReturn(round.node);
      else {
        victim = await fleet.topLeader();
        await fleet.killAndRestart(victim);
      }
      // Give the slowest client (a poller) a full period, and then some, to catch up.
      await new Promise((r) => setTimeout(r, POLL_MS + 1_000));
      const reports = await Promise.all(workers.map((w) => w.report()));
      const after = await scrapeCoordinator(fleet);
      const publishDelayMs = bucketQuantiles(before.buckets, after.buckets);
      const samples = reports.flatMap((r) => r.samples);
      const deliveries = reports.flatMap((r) => r.deliveries.map((d) => d.latencyMs));
      const changes = new Set(samples.map((s) => `${s.partition}@${s.epoch}`));
      for (const r of reports) for (const p of r.pending) changes.add(`${p.partition}@${p.epoch}`);
      const via: Record<string, number> = {};
      for (const s of samples) via[s.via] = (via[s.via] ?? 0) + 1;
      const result: RoundResult = {
        mode,
        round: `${warmUp ? 'warm-up: ' : ''}${roundName(round, victim)}`,
        warmUp,
        leaderChanges: changes.size,
        samples: samples.length,
        notApplied: reports.reduce((n, r) => n + r.pending.reduce((m, p) => m + p.clients, 0), 0),
        latencyMs: distribution(samples.map((s) => s.latencyMs)),
        deliveryMs: distribution(deliveries),
        mapFetchesPerClient: reports.reduce((n, r) => n + r.mapFetches, 0) / CLIENTS,
        fetchFailures: reports.reduce((n, r) => n + r.fetchFailures, 0),
        wentBack: reports.reduce((n, r) => n + r.regressions, 0),
        via,
        publishDelayMs,
        clientLoopDelayP99Ms: Math.max(...reports.map((r) => r.loopDelayMs.p99)),
        coordinatorLoopDelayP99Ms: after.loopDelayP99Ms,
      };
      if (warmUp) {
        warmUps.push(result);
      } else {
        rounds.push(result);
        all.push(...samples);
        allDeliveries.push(...deliveries);
      }
      console.log(
        `  ${mode} · ${result.round}: ${result.leaderChanges} leader changes, p50 ${fmt(result.latencyMs.p50)} ms, p99 ${fmt(result.latencyMs.p99)} ms; event delivery p50 ${fmt(result.deliveryMs.p50)} / p99 ${fmt(result.deliveryMs.p99)} ms (published p50 ≤ ${fmt(publishDelayMs.p50)} / p99 ≤ ${fmt(publishDelayMs.p99)} ms after at; loop delay p99 coordinator ${fmt(result.coordinatorLoopDelayP99Ms)} / clients ${fmt(result.clientLoopDelayP99Ms)} ms); applied via ${JSON.stringify(result.via)}; went back ${result.wentBack}; ${fmt(result.mapFetchesPerClient)} GET /map per client (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  const publishDelayMs = bucketQuantiles(modeBefore, (await scrapeCoordinator(fleet)).buckets);
  return { warmUps, rounds, all, deliveries: allDeliveries, publishDelayMs };
}

/** A stateless router: `GET /api/v1/map` and a scan for every lookup, against the live fleet. */
async function httpPerLookup(fleet: BenchFleet): Promise<LookupRow> {
  const source = new HttpMapSource(fleet.apiBase, { token: fleet.cluster.adminToken });
  const keys = sampleKeys(1_000);
  for (let i = 0; i < 20; i++) scanLeader(await source.fetchMap(), RESOURCE, keys[i]); // warm-up
  const n = 300;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) scanLeader(await source.fetchMap(), RESOURCE, keys[i]);
  const ns = Number(process.hrtime.bigint() - t) / n;
  return {
    method: 'GET /api/v1/map per lookup (live fleet)',
    kind: 'baseline',
    partitions: PARTITIONS,
    opsPerSec: 1e9 / ns,
    nsPerOp: ns,
    note: 'a stateless router asking the coordinator every time',
  };
}

// ---- output -------------------------------------------------------------------------------

function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function group(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function summarise(
  mode: ClientMode,
  rounds: RoundResult[],
  samples: Sample[],
  deliveries: number[],
  publishDelayMs: BucketQuantiles,
): RoundResult {
  const via: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.via)) via[k] = (via[k] ?? 0) + v;
  return {
    mode,
    round: WARMUP.length > 0 ? 'all rounds after the warm-up' : 'all rounds',
    warmUp: false,
    leaderChanges: rounds.reduce((n, r) => n + r.leaderChanges, 0),
    samples: samples.length,
    notApplied: rounds.reduce((n, r) => n + r.notApplied, 0),
    latencyMs: distribution(samples.map((s) => s.latencyMs)),
    deliveryMs: distribution(deliveries),
    mapFetchesPerClient: rounds.reduce((n, r) => n + r.mapFetchesPerClient, 0),
    fetchFailures: rounds.reduce((n, r) => n + r.fetchFailures, 0),
    wentBack: rounds.reduce((n, r) => n + r.wentBack, 0),
    via,
    publishDelayMs,
    clientLoopDelayP99Ms: Math.max(...rounds.map((r) => r.clientLoopDelayP99Ms)),
    coordinatorLoopDelayP99Ms: Math.max(...rounds.map((r) => r.coordinatorLoopDelayP99Ms)),
  };
}

const MODE_LABEL: Record<ClientMode, string> = {
  events: 'tessera: versioned deltas, refetch on a gap only',
  refetch: 'baseline: refetch GET /map on each new version (no deltas)',
  poll: `baseline: poll GET /map every ${POLL_MS} ms`,
};

async function main(): Promise<void> {
  console.log(`machine: ${machine} (load average ${loadAtStart.toFixed(2)} at start)`);
  console.log(`lookups on a map of ${LOOKUP_PARTITIONS.toLocaleString('en-US')} partitions…`);
  const lookups = await measureLookups(LOOKUP_PARTITIONS);

  console.log(
    `starting the fleet: 5 services, 3 kv-nodes, ${RESOURCE} with ${PARTITIONS} partitions…`,
  );
  const fleet = await BenchFleet.start(PARTITIONS);
  const stopFleet = (): void => {
    void fleet.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopFleet);
  process.once('SIGTERM', stopFleet);
  const results: Partial<
    Record<ClientMode, { warmUps: RoundResult[]; rounds: RoundResult[]; all: RoundResult }>
  > = {};
  try {
    console.log(`fleet up: ${fleet.apiBase} (cluster ${fleet.cluster.env.cluster})`);
    lookups.push(await httpPerLookup(fleet));
    for (const mode of MODES) {
      console.log(`${CLIENTS} clients (${MODE_LABEL[mode]}) in ${WORKERS} processes…`);
      const { warmUps, rounds, all, deliveries, publishDelayMs } = await runMode(fleet, mode);
      results[mode] = {
        warmUps,
        rounds,
        all: summarise(mode, rounds, all, deliveries, publishDelayMs),
      };
    }
  } catch (error) {
    console.error(fleet.logs().slice(-20_000));
    throw error;
  } finally {
    process.removeListener('SIGINT', stopFleet);
    process.removeListener('SIGTERM', stopFleet);
    await fleet.stop();
  }

  const route = lookups[0].opsPerSec;
  const lookupTable = new Table({
    head: ['lookup', 'partitions', 'lookups/s', 'ns/lookup', 'vs route()'],
    style: { head: [], border: [] },
  });
  for (const r of lookups) {
    lookupTable.push([
      r.kind === 'tessera'
        ? `${r.method} (tessera)`
        : r.kind === 'raw'
          ? r.method
          : `baseline: ${r.method}`,
      group(r.partitions),
      group(r.opsPerSec),
      group(r.nsPerOp),
      r === lookups[0] ? '1×' : `${fmt(r.opsPerSec / route, r.opsPerSec / route < 0.01 ? 4 : 2)}×`,
    ]);
  }
  const propagationTable = new Table({
    head: [
      'clients',
      'round',
      'leader changes',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'not applied',
      'went back',
      'event delivery p50/p99 ms',
      'published ≤ p50/p99 ms',
      'loop delay p99 ms (beyond the sampling timer): coordinator / clients',
      'GET /map per client',
    ],
    style: { head: [], border: [] },
  });
  for (const mode of MODES) {
    const result = results[mode];
    if (!result) continue;
    for (const r of [...result.warmUps, ...result.rounds, result.all]) {
      propagationTable.push([
        MODE_LABEL[mode],
        r.round,
        r.leaderChanges,
        fmt(r.latencyMs.p50),
        fmt(r.latencyMs.p90),
        fmt(r.latencyMs.p99),
        fmt(r.latencyMs.max),
        r.notApplied,
        r.wentBack,
        `${fmt(r.deliveryMs.p50)} / ${fmt(r.deliveryMs.p99)}`,
        `${fmt(r.publishDelayMs.p50)} / ${fmt(r.publishDelayMs.p99)}`,
        `${fmt(r.coordinatorLoopDelayP99Ms)} / ${fmt(r.clientLoopDelayP99Ms)}`,
        fmt(r.mapFetchesPerClient),
      ]);
    }
  }
  const p99 = results.events?.all.latencyMs.p99 ?? Number.NaN;
  const warmUpP99 = results.events?.warmUps.map((r) => fmt(r.latencyMs.p99)) ?? [];
  console.log(lookupTable.toString());
  console.log(propagationTable.toString());
  console.log(
    `machine: ${machine}; load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
  );
  console.log(
    `propagation to ${CLIENTS} clients: p99 ${fmt(p99)} ms (goal ≤ ${GOAL_P99_MS} ms: ${p99 <= GOAL_P99_MS ? 'met' : 'NOT met'})${warmUpP99.length > 0 ? ` over the rounds after the warm-up (warm-up round p99 ${warmUpP99.join(', ')} ms)` : ''}; route() ${group(route)} lookups/s on ${group(LOOKUP_PARTITIONS)} partitions`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/client.json',
    `${JSON.stringify(
      {
        machine,
        loadAverage: { start: loadAtStart, end: loadavg()[0] },
        config: {
          clients: CLIENTS,
          workers: WORKERS,
          partitions: PARTITIONS,
          pollMs: POLL_MS,
          lookupPartitions: LOOKUP_PARTITIONS,
          warmUp: WARMUP.map((r) => roundName(r)),
          rounds: ROUNDS.map((r) => roundName(r)),
        },
        goalP99Ms: GOAL_P99_MS,
        lookups,
        propagation: results,
      },
      null,
      2,
    )}\n`,
  );
  console.log('wrote bench/results/client.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
