/**
 * Recovery benchmark: the real fleet (built apps, `dist/apps/*`) with six kv-nodes in six zones and
 * one resource of 1,000 partitions × RF 3 holding real data. Measures
 *   1. a node's death (SIGKILL) → every partition back to RF 3 in sync on live nodes, split into
 *      detection, the grace delay, and re-replication (recovery's REREPLICATE → the coordinator's
 *      REPLACE migration: add, catch up, join the ISR, drop the dead copy);
 *   2. a drain of another node: leadership first, then every replica, until the node is empty,
 *      sampling the map for leaderless partitions throughout.
 * Prints a table beside the anchors' defaults and writes bench/results/recovery.json.
 *
 *   npm run build && npm run bench:recovery
 *
 * BENCH_PARTITIONS (1000), BENCH_DATA_KB per partition (16), BENCH_VALUE_BYTES (1024),
 * BENCH_GRACE_MS (the recovery grace delay for the run, default 2000; production default 30 s),
 * TESSERA_MAX_MOVES_PER_NODE / TESSERA_MAX_MOVES_PER_CLUSTER pass through to the coordinator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { connect, type NatsConnection } from 'nats';
import {
  type MapResourceV1,
  type MapViewV1,
  type NodeAdminReplyV1,
  type NodeViewV1,
  type OperationV1,
  fullSubject,
  partitionForKey,
  Subjects,
} from '@tessera/contracts';
import { waitFor, WORKSPACE_ROOT } from '@tessera/testing';
import { type KvNodeSpec, TestCluster } from '../../apps/e2e/src/cluster';
import { ms } from './failover/stats';

const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 1000);
const DATA_KB = Number(process.env['BENCH_DATA_KB'] ?? 16);
const VALUE_BYTES = Number(process.env['BENCH_VALUE_BYTES'] ?? 1024);
const GRACE_MS = Number(process.env['BENCH_GRACE_MS'] ?? 2000);
const RF = 3;
const RESOURCE = 'bench';
const NODES: KvNodeSpec[] = Array.from({ length: 6 }, (_, i) => ({ id: `kv-${i + 1}`, zone: `z${i + 1}`, rack: `r${i + 1}` }));
const PUTS_IN_FLIGHT = 64;
const SAMPLE_MS = 250;

/** How long the systems Tessera is compared with wait before re-replicating a lost node's data by default. */
const ANCHORS = [
  { system: 'Kafka', setting: '—', wait: 'never (an operator runs kafka-reassign-partitions)' },
  { system: 'TiKV PD', setting: 'max-store-down-time', wait: '30 min' },
  { system: 'CockroachDB', setting: 'server.time_until_store_dead', wait: '5 min' },
  { system: 'Apache Helix', setting: 'delayed rebalance (off by default)', wait: 'at once when off; the configured delay when on' },
  { system: 'Tessera', setting: 'TESSERA_RECOVERY_GRACE_MS', wait: '30 s (per operation: PATCH /operations/:id)' },
];

const log = (message: string) => process.stderr.write(`[bench:recovery] ${message}\n`);

async function fill(nc: NatsConnection, cluster: string): Promise<{ puts: number; bytes: number; ms: number }> {
  const keysPerPartition = Math.max(1, Math.round((DATA_KB * 1024) / VALUE_BYTES));
  const value = 'x'.repeat(VALUE_BYTES);
  // Keys that hash to each partition (a leader refuses keys of other partitions).
  const keys: string[][] = Array.from({ length: PARTITIONS }, () => []);
  let remaining = PARTITIONS * keysPerPartition;
  for (let i = 0; remaining > 0; i++) {
    const bucket = keys[partitionForKey(`bench.${i}`, PARTITIONS)];
    if (bucket && bucket.length < keysPerPartition) {
      bucket.push(`bench.${i}`);
      remaining--;
    }
  }
  const jobs: { p: number; key: string }[] = [];
  for (let k = 0; k < keysPerPartition; k++) keys.forEach((bucket, p) => jobs.push({ p, key: bucket[k] ?? '' }));
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let lastError = '';
  const worker = async () => {
    for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) {
      const { p, key } = job;
      const subject = fullSubject(cluster, Subjects.kv.put(RESOURCE, p));
      for (let attempt = 0; ; attempt++) {
        try {
          const reply = (await nc.request(subject, JSON.stringify({ key, value }), { timeout: 5_000 })).json<{ ok: boolean; code?: string; message?: string }>();
          if (reply.ok) break;
          lastError = `${reply.code ?? '?'}: ${reply.message ?? ''}`;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error); // a leader moving under us: retried
        }
        if (attempt >= 30) {
          failed++;
          break;
        }
        await new Promise((r) => setTimeout(r, 100 + attempt * 50));
      }
    }
  };
  await Promise.all(Array.from({ length: PUTS_IN_FLIGHT }, worker));
  if (failed > 0) throw new Error(`${failed} puts were never acknowledged (last: ${lastError})`);
  return { puts: jobs.length, bytes: jobs.length * VALUE_BYTES, ms: performance.now() - started };
}

async function resource(cluster: TestCluster): Promise<MapResourceV1> {
  const map = (await cluster.api<MapViewV1>('GET', `/map?resource=${RESOURCE}`)).body;
  const r = map.resources.find((x) => x.name === RESOURCE);
  if (!r) throw new Error('the resource is not in the map');
  return r;
}

const inSync = (r: MapResourceV1, without: string[]) =>
  r.partitions.length === PARTITIONS &&
  r.partitions.every(
    (p) =>
      p.leader !== null &&
      p.replicas.length === RF &&
      p.replicas.every((n) => !without.includes(n)) &&
      p.isr.length === RF &&
      p.replicas.every((n) => p.isr.includes(n)),
  );

async function operation(cluster: TestCluster, kind: OperationV1['kind'], subject: string): Promise<OperationV1 | undefined> {
  const ops = (await cluster.api<OperationV1[]>('GET', '/operations')).body;
  return ops.find((o) => o.kind === kind && o.subject === subject);
}

interface DeathResult {
  victim: string;
  replicasLost: number;
  detectionMs: number | null;
  rereplicationStartedMs: number | null;
  fullRfMs: number;
  operationEndedMs: number;
  copyPhaseMs: number | null;
  replicasPerSec: number | null;
  mbPerSec: number | null;
}

async function nodeDeath(cluster: TestCluster, victim: string): Promise<DeathResult> {
  const before = await resource(cluster);
  const replicasLost = before.partitions.filter((p) => p.replicas.includes(victim)).length;
  const events = await cluster.collectEvents();
  const t0 = Date.now();
  await cluster.kill(victim);
  log(`killed ${victim} (${replicasLost} replicas); waiting for RF ${RF} in sync without it`);
  let rereplicationStartedAt: number | null = null;
  const fullAt = await waitFor(
    'full RF again',
    async () => {
      if (rereplicationStartedAt === null) {
        const op = await operation(cluster, 'REREPLICATE', victim);
        if (op && op.state !== 'PENDING') rereplicationStartedAt = Date.now();
      }
      return inSync(await resource(cluster), [victim]) ? Date.now() : undefined;
    },
    { timeoutMs: 900_000, intervalMs: SAMPLE_MS },
  );
  // The migration may still be moving preferred leaders back: let it end before the drain.
  const ended = await waitFor(
    'the re-replication to end',
    async () => {
      const op = await operation(cluster, 'REREPLICATE', victim);
      return op && op.state !== 'PENDING' && op.state !== 'RUNNING' ? op : undefined;
    },
    { timeoutMs: 600_000, intervalMs: SAMPLE_MS },
  );
  const operationEndedMs = Date.now() - t0;
  if (ended.state !== 'SUCCEEDED') throw new Error(`re-replication ${ended.state}: ${ended.error ?? ''}`);
  const dead = events.nodeStates(victim).find((e) => e.body['state'] === 'DEAD');
  await events.close();
  const copyPhaseMs = rereplicationStartedAt === null ? null : fullAt - rereplicationStartedAt;
  return {
    victim,
    replicasLost,
    detectionMs: dead ? dead.at - t0 : null,
    rereplicationStartedMs: rereplicationStartedAt === null ? null : rereplicationStartedAt - t0,
    fullRfMs: fullAt - t0,
    operationEndedMs,
    copyPhaseMs,
    replicasPerSec: copyPhaseMs ? (replicasLost / copyPhaseMs) * 1000 : null,
    mbPerSec: copyPhaseMs ? ((replicasLost * DATA_KB) / 1024 / copyPhaseMs) * 1000 : null,
  };
}

interface DrainResult {
  node: string;
  replicasMoved: number;
  leadersBefore: number;
  durationMs: number;
  replicasPerSec: number;
  mbPerSec: number;
  samples: number;
  leaderlessSamples: number;
}

async function drain(cluster: TestCluster, node: string): Promise<DrainResult> {
  const before = await resource(cluster);
  const replicasMoved = before.partitions.filter((p) => p.replicas.includes(node)).length;
  const leadersBefore = before.partitions.filter((p) => p.leader === node).length;
  const t0 = Date.now();
  const reply = await cluster.api<NodeAdminReplyV1>('POST', `/nodes/${node}/drain`);
  if (reply.status !== 200 && reply.status !== 201) throw new Error(`drain refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  log(`draining ${node} (${replicasMoved} replicas, ${leadersBefore} leaders), operation ${reply.body.operationId}`);
  let samples = 0;
  let leaderlessSamples = 0;
  const doneAt = await waitFor(
    'the drain finished',
    async () => {
      const r = await resource(cluster);
      samples++;
      if (r.partitions.some((p) => p.leader === null)) leaderlessSamples++;
      const empty = r.partitions.every((p) => !p.replicas.includes(node));
      return empty && inSync(r, [node]) ? Date.now() : undefined;
    },
    { timeoutMs: 900_000, intervalMs: SAMPLE_MS },
  );
  const durationMs = doneAt - t0;
  return {
    node,
    replicasMoved,
    leadersBefore,
    durationMs,
    replicasPerSec: (replicasMoved / durationMs) * 1000,
    mbPerSec: ((replicasMoved * DATA_KB) / 1024 / durationMs) * 1000,
    samples,
    leaderlessSamples,
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  log(`fleet: 6 kv-nodes, ${PARTITIONS} partitions × RF ${RF}, ${DATA_KB} KB per partition, grace ${GRACE_MS} ms`);
  const passThrough: Record<string, string> = {};
  for (const k of ['TESSERA_MAX_MOVES_PER_NODE', 'TESSERA_MAX_MOVES_PER_CLUSTER']) {
    const v = process.env[k];
    if (v !== undefined) passThrough[k] = v;
  }
  const cluster = await TestCluster.start('benchrecovery', {
    nodes: NODES,
    instances: { recovery: 2 },
    // No join rebalance in the middle of the measurements (nodes all start together anyway).
    env: { TESSERA_RECOVERY_GRACE_MS: String(GRACE_MS), TESSERA_AUTO_REBALANCE: 'false', ...passThrough },
  });
  const nc = await connect({ servers: cluster.env.natsUrl });
  try {
    await waitFor(
      'every node ALIVE',
      async () => {
        const nodes = (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
        return nodes.length === NODES.length && nodes.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 60_000 },
    );
    const created = await cluster.api('POST', '/resources', { name: RESOURCE, partitions: PARTITIONS, replicationFactor: RF });
    if (created.status !== 201) throw new Error(`resource not created: ${created.status} ${JSON.stringify(created.body)}`);
    await waitFor('every partition led and in sync', async () => inSync(await resource(cluster), []), { timeoutMs: 300_000, intervalMs: 500 });
    log('filling');
    const filled = await fill(nc, cluster.env.cluster);
    log(`filled ${filled.puts} puts (${(filled.bytes / 1024 / 1024).toFixed(1)} MB) in ${ms(filled.ms)}`);

    const death = await nodeDeath(cluster, 'kv-6');
    log(`full RF after ${ms(death.fullRfMs)}`);
    const drained = await drain(cluster, 'kv-5');
    log(`drain done after ${ms(drained.durationMs)}`);

    const table = new Table({ head: ['measure', 'value', 'note'] });
    table.push(
      ['data', `${PARTITIONS} partitions × RF ${RF}, ${DATA_KB} KB each`, `${(filled.bytes / 1024 / 1024).toFixed(1)} MB written, ${Math.round((filled.puts / filled.ms) * 1000)} puts/s`],
      [`death of ${death.victim}: detection`, ms(death.detectionMs), 'SIGKILL → events.node.state DEAD'],
      ['… re-replication started', ms(death.rereplicationStartedMs), `after the grace delay (${ms(GRACE_MS)} in this run)`],
      ['… full RF in sync again', ms(death.fullRfMs), `${death.replicasLost} replicas re-placed`],
      ['… re-replication operation ended', ms(death.operationEndedMs), 'preferred leaders moved back too'],
      ['… copy phase (start → full RF)', ms(death.copyPhaseMs), `${death.replicasPerSec?.toFixed(1) ?? '–'} replicas/s, ${death.mbPerSec?.toFixed(2) ?? '–'} MB/s`],
      [`drain of ${drained.node}`, ms(drained.durationMs), `${drained.replicasMoved} replicas (${drained.leadersBefore} leaders): ${drained.replicasPerSec.toFixed(1)} replicas/s, ${drained.mbPerSec.toFixed(2)} MB/s`],
      ['… leaderless samples during the drain', `${drained.leaderlessSamples} / ${drained.samples}`, `map sampled every ${SAMPLE_MS} ms`],
    );
    process.stdout.write(`${table.toString()}\n`);
    const anchors = new Table({ head: ['system', 'setting', 'waits before re-replicating'] });
    for (const a of ANCHORS) anchors.push([a.system, a.setting, a.wait]);
    process.stdout.write(`${anchors.toString()}\n`);

    const result = {
      generatedAt: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
      loadAverage: { start: loadStart, end: loadavg()[0] },
      setup: { kvNodes: NODES.length, partitions: PARTITIONS, replicationFactor: RF, dataKbPerPartition: DATA_KB, valueBytes: VALUE_BYTES, graceMs: GRACE_MS, recoveries: 2, ...passThrough },
      fill: filled,
      death,
      drain: drained,
      anchors: ANCHORS,
    };
    const dir = join(WORKSPACE_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'recovery.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote bench/results/recovery.json`);
  } finally {
    await nc.close().catch(() => undefined);
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:recovery] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
