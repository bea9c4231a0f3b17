import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import {
  type MapResourceV1,
  type MapViewV1,
  Subjects,
  fullSubject,
  partitionForKey,
} from '@tessera/contracts';
import { setPriority } from 'node:os';
import { startApp, waitFor } from '@tessera/testing';
import {
  type ClusterOptions,
  type EventLog,
  type KvNodeSpec,
  type ObservedEvent,
  TestCluster,
} from '../../../apps/e2e/src/cluster';
import { startLightNode } from './light-node';

/**
 * `kv`: the real kv-nodes (dist/apps/kv-node). `kv-nice`: the same at nice DATA_NODE_NICE, for the
 * production layout, where data nodes have machines of their own and do not take the control
 * plane's cores (here all of them share 2). `light`: node agents without data (control plane alone).
 */
export type NodeKind = 'kv' | 'kv-nice' | 'light';

export const DATA_NODE_NICE = 10;

export function nodeKindLabel(kind: NodeKind): string {
  switch (kind) {
    case 'kv':
      return 'kv-nodes';
    case 'kv-nice':
      return `kv-nodes at nice ${DATA_NODE_NICE}`;
    case 'light':
      return 'light nodes';
  }
}

function nodeLauncher(kind: NodeKind): ClusterOptions['nodeLauncher'] {
  switch (kind) {
    case 'kv':
      return undefined;
    case 'kv-nice':
      return (node: KvNodeSpec, env: Record<string, string>) => {
        const proc = startApp('kv-node', env, node.id);
        setPriority(proc.child.pid ?? 0, DATA_NODE_NICE);
        return proc;
      };
    case 'light':
      return (node: KvNodeSpec, env: Record<string, string>) => startLightNode(node.id, env);
  }
}

export const RESOURCE = 'bench';
export const NODE_COUNT = 5;
export const RF = 3;

export interface Fleet {
  cluster: TestCluster;
  events: EventLog;
  partitions: number;
  nodes: NodeKind;
  /** The bench's own NATS connection (asks health for liveness). */
  nc: NatsConnection;
}

/** Stops every process of the fleet and drops its database (keeping the logs, see dumpLogs). */
export async function stopFleet(fleet: Fleet): Promise<void> {
  await fleet.nc.close().catch(() => undefined);
  dumpLogs(fleet.cluster);
  await fleet.cluster.stop();
}

/**
 * With BENCH_LOG_DIR set, writes what every process of the fleet logged (the last ~1 MB each) to
 * `<dir>/<cluster>/<process>.log`, for finding where a slow or failed round spent its time.
 */
export function dumpLogs(cluster: TestCluster): void {
  const root = process.env['BENCH_LOG_DIR'];
  if (!root) return;
  const dir = join(root, cluster.env.cluster);
  mkdirSync(dir, { recursive: true });
  const procs = [...[...cluster.instances.values()].map((i) => i.proc), ...cluster.nodes.values()];
  for (const p of procs) writeFileSync(join(dir, `${p.name}.log`), p.output());
  log(`logs of ${procs.length} processes in ${dir}`);
}

/**
 * Liveness as health sees it (`health.node.list`). The coordinator's `/nodes` is a projection
 * of health's events and, with two coordinators, can be left behind (see the bench's notes).
 */
export async function healthLiveness(
  fleet: Pick<Fleet, 'cluster' | 'nc'>,
): Promise<Map<string, string>> {
  const reply = await fleet.nc.request(
    `tessera.v1.${fleet.cluster.env.cluster}.health.node.list`,
    '{}',
    { timeout: 2_000 },
  );
  const body = reply.json<{ nodes?: { nodeId: string; state: string }[] }>();
  return new Map((body.nodes ?? []).map((n) => [n.nodeId, n.state]));
}

const log = (message: string) => process.stderr.write(`[bench:failover] ${message}\n`);
export { log };

/**
 * The real fleet from the built apps (`dist/apps/*`), in its own database and cluster: two
 * coordinators and two recovery instances (active + standby), one of each other service, five
 * data nodes in five zones, and one resource of `partitions` × RF 3, every partition led and in
 * sync. The data nodes are the real kv-nodes, or (`light`) bare node agents.
 */
export async function startFleet(partitions: number, kind: NodeKind = 'kv'): Promise<Fleet> {
  const nodes = Array.from({ length: NODE_COUNT }, (_, i) => ({
    id: `kv-${i + 1}`,
    zone: `z${i + 1}`,
    rack: `r${i + 1}`,
  }));
  const launcher = nodeLauncher(kind);
  const cluster = await TestCluster.start(`bench${kind.replace('-', '')}${partitions}`, {
    nodes,
    instances: { coordinator: 2, recovery: 2 },
    ...(launcher ? { nodeLauncher: launcher } : {}),
  });
  const nc = await connect({ servers: cluster.env.natsUrl });
  try {
    const events = await cluster.collectEvents();
    await waitFor(
      'five ALIVE nodes',
      async () => {
        // Placement reads the coordinator's view: both it and health must see five ALIVE nodes.
        const states = await healthLiveness({ cluster, nc });
        const list = (await cluster.api<{ state: string }[]>('GET', '/nodes')).body;
        return (
          states.size === NODE_COUNT &&
          [...states.values()].every((st) => st === 'ALIVE') &&
          list.length === NODE_COUNT &&
          list.every((n) => n.state === 'ALIVE')
        );
      },
      { timeoutMs: 60_000 },
    );
    const created = await cluster.api('POST', '/resources', {
      name: RESOURCE,
      partitions,
      replicationFactor: RF,
    });
    if (created.status !== 201)
      throw new Error(
        `creating ${RESOURCE} answered ${created.status}: ${JSON.stringify(created.body)}`,
      );
    const started = Date.now();
    await waitFor(
      'every partition led',
      async () =>
        (await resourceMap(cluster).catch(() => undefined))?.partitions.every(
          (p) => p.leader !== null,
        ),
      {
        timeoutMs: 300_000,
        intervalMs: 500,
      },
    );
    log(`${partitions} partitions led in ${Date.now() - started} ms`);
    const inSync = await waitForStable({ cluster, events, partitions, nodes: kind, nc }, 300_000);
    log(
      `every node steadily ALIVE, ${inSync} of ${partitions} partitions fully in sync, after ${Date.now() - started} ms`,
    );
    if (kind !== 'light') {
      await waitForServing(nc, cluster.env.cluster, partitions, 300_000);
      log(`every partition served by its leader after ${Date.now() - started} ms`);
    }
    return { cluster, events, partitions, nodes: kind, nc };
  } catch (error) {
    process.stderr.write(cluster.logs().slice(-20_000));
    await nc.close().catch(() => undefined);
    dumpLogs(cluster);
    await cluster.stop();
    throw error;
  }
}

export async function resourceMap(cluster: TestCluster): Promise<MapResourceV1> {
  const found = (await cluster.api<MapViewV1>('GET', `/map`)).body.resources.find(
    (r) => r.name === RESOURCE,
  );
  if (!found) throw new Error(`${RESOURCE} is not in the map`);
  return found;
}

/** Every partition led and its ISR at the full replication factor. */
export function waitForFullReplication(
  cluster: TestCluster,
  partitions: number,
  timeoutMs: number,
): Promise<MapResourceV1> {
  return waitFor(
    'every partition led with its full ISR',
    async () => {
      const r = await resourceMap(cluster).catch(() => undefined);
      return r &&
        r.partitions.length === partitions &&
        r.partitions.every((p) => p.leader !== null && p.isr.length === RF)
        ? r
        : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/**
 * Before a round: every node ALIVE with no liveness change for 3 s (a machine this busy can make
 * health suspect a node that only stalled) and every partition led; then, for up to
 * `fullIsrWithinMs`, every ISR at the full replication factor. Returns how many partitions had
 * their full ISR when it stopped waiting (a partition whose ISR is only the victim goes offline).
 */
export async function waitForStable(
  fleet: Fleet,
  timeoutMs: number,
  fullIsrWithinMs = 120_000,
): Promise<number> {
  const { cluster, events, partitions } = fleet;
  let why = '';
  await waitFor(
    'a steady cluster',
    async () => {
      const recent = events.of('events.internal.node.liveness', Date.now() - 3_000);
      const states = await healthLiveness(fleet);
      const nodes = [...states].map(([id, state]) => ({ id, state }));
      const r = await resourceMap(cluster);
      const led = r.partitions.filter((p) => p.leader !== null).length;
      const proc = (id: string) => {
        const p = cluster.nodes.get(id);
        return p && p.child.exitCode === null && p.child.signalCode === null
          ? ''
          : ` (process exited: ${p?.child.exitCode ?? p?.child.signalCode})`;
      };
      why = `${recent.length} liveness changes in 3 s; ${nodes.map((n) => `${n.id} ${n.state}${proc(n.id)}`).join(', ')}; ${led}/${partitions} led`;
      return (
        recent.length === 0 &&
        nodes.length === NODE_COUNT &&
        nodes.every((n) => n.state === 'ALIVE') &&
        led === partitions
      );
    },
    { timeoutMs, intervalMs: 1_000 },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)} (last seen: ${why})`);
  });
  const full = async () =>
    (await resourceMap(cluster)).partitions.filter((p) => p.leader !== null && p.isr.length === RF)
      .length;
  await waitFor('every ISR full', async () => (await full()) === partitions, {
    timeoutMs: fullIsrWithinMs,
    intervalMs: 1_000,
  }).catch(() => undefined);
  return full();
}

/**
 * Until every partition answers a kv get from its leader. Led and in sync in the map is not yet
 * serving: right after a resource is created each kv-node still sets up thousands of roles for
 * a while (opening logs, subscribing), and a kill in that window measures the set-up as well.
 */
export async function waitForServing(
  nc: NatsConnection,
  cluster: string,
  partitions: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = Array.from({ length: partitions }, (_, p) => p);
  // A get must name a key of the partition it is sent to: one per partition.
  const keys = new Map<number, string>();
  for (let i = 0; keys.size < partitions; i++) {
    const p = partitionForKey(`probe-${i}`, partitions);
    if (!keys.has(p)) keys.set(p, `probe-${i}`);
  }
  const serves = async (p: number) => {
    try {
      const reply = await nc.request(
        fullSubject(cluster, Subjects.kv.get(RESOURCE, p)),
        new TextEncoder().encode(JSON.stringify({ key: keys.get(p) })),
        { timeout: 2_000 },
      );
      return (JSON.parse(new TextDecoder().decode(reply.data)) as { ok?: unknown }).ok === true;
    } catch {
      return false;
    }
  };
  while (waiting.length > 0) {
    if (Date.now() > deadline)
      throw new Error(
        `${waiting.length} of ${partitions} partitions not served after ${timeoutMs} ms`,
      );
    const still: number[] = [];
    // 200 requests in flight: a sweep of 10,000 takes a few seconds and adds little load.
    for (let i = 0; i < waiting.length; i += 200) {
      const chunk = waiting.slice(i, i + 200);
      const ok = await Promise.all(chunk.map(serves));
      chunk.forEach((p, j) => {
        if (!ok[j]) still.push(p);
      });
    }
    waiting = still;
    if (waiting.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
}

/** Sum and count of a Prometheus histogram on one service's /metrics. */
export async function histogram(
  port: number,
  name: string,
): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (suffix: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}_${suffix}`));
    return line ? Number(line.trim().split(/\s+/).pop()) : 0;
  };
  return { sum: read('sum'), count: read('count') };
}

/** ISO time of an event body's `at`, as epoch ms. */
export function atOf(e: ObservedEvent): number {
  return Date.parse(String(e.body['at']));
}
