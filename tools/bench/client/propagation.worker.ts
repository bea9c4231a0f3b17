/**
 * Hosts a share of the benchmark's PartitionMapClients, each with its own NATS connection, and
 * records when each one routes to each new leader. Started by client.bench.ts (Node IPC).
 *
 * A leader change is known by the map message that carries it to the clients (`events.map` with
 * the version's entries inline, or an `events.map.changes` chunk; partition, new epoch, `at` =
 * the map change's transaction time). A client has applied it once its route for that partition
 * (`partition(resource, p)`, the lookup behind `route(resource, key)`) has that epoch or a later
 * one. Routes are checked at every moment they can change: right after the client's own event
 * is delivered (the partitions it carries) and right after each map fetch it makes is installed.
 * A change is registered by whichever sees it first: a client's event or this worker's own
 * observer connection (so a client that misses the event is still tracked), and every client is
 * checked once when it is registered.
 *
 * The probe runs in the same processes, on the same cores, as the clients it measures, so its
 * own work per client and event is kept to a few array reads: per partition a list of registered
 * changes, per client a cursor into it, samples as flat numbers until they are reported.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, type Msg, type NatsConnection } from 'nats';
import {
  HttpMapSource,
  type MapEventSource,
  type MapSource,
  natsMapEvents,
  PartitionMapClient,
} from '@tessera/client';
import { type MapViewV1, Subjects, fullSubject } from '@tessera/contracts';
import {
  type AppliedVia,
  type FromWorker,
  type Sample,
  type WorkerConfig,
  isToWorker,
} from './protocol';

/** A leader change: its partition's new epoch and the `at` of the map message that carried it. */
interface Change {
  epoch: number;
  atMs: number;
}

function readConfig(): WorkerConfig {
  const raw = process.env['BENCH_WORKER'];
  if (!raw) throw new Error('BENCH_WORKER is not set: this worker is started by client.bench.ts');
  return JSON.parse(raw) as WorkerConfig;
}

function send(message: FromWorker): void {
  process.send?.(message);
}

const config = readConfig();
// How long this process's event loop keeps an arrived event waiting (CPU shared with the fleet).
// Sampled every 20 ms (50 wake-ups/s, not 200: its own CPU sits beside the clients measured);
// reported beyond that interval, which the histogram's values include.
const LOOP_SAMPLE_MS = 20;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
const beyondSample = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
loopDelay.enable();
const clients: PartitionMapClient[] = [];
const connections: NatsConnection[] = [];
/**
 * Per partition, the leader changes registered so far, in epoch order, after the epoch the map
 * had when the worker started (`base`). Registered from any map message, a client's or the
 * observer's: whichever comes first.
 */
const registered: Change[][] = [];
const base: number[] = [];
/**
 * Per local client and partition: how many of `registered[partition]` it has been seen to route
 * to. The probe keeps these cursors instead of a set of pending clients per change, so that its
 * work per client and event is a few array reads, beside the clients it measures on the same
 * cores.
 */
const cursors: Int32Array[] = [];
/** Samples as flat tuples (partition, epoch, client, latency ms, via): no object per sample. */
const VIA: readonly AppliedVia[] = ['event', 'fetch', 'check'];
const SAMPLE_FIELDS = 5;
let samples: number[] = [];
let deliveries: { partition: number; epoch: number; latencyMs: number }[] = [];
const wentBack = new Set<string>();
let regressions = 0;
let mapFetches = 0;
let fetchFailures = 0;

/** The changed entries a map message carries (`events.map` inline, `events.map.changes`). */
function entriesOf(payload: unknown): { partition: unknown; epoch: unknown; resource: unknown }[] {
  const list = (payload as { partitions?: unknown } | null)?.partitions;
  return Array.isArray(list)
    ? (list as { partition: unknown; epoch: unknown; resource: unknown }[])
    : [];
}

/** Registers the leader changes a map message carries; returns the partitions with new ones. */
function register(payload: unknown): number[] {
  // Without entries (a refetch-mode client's stripped copy) there is nothing to register, and it
  // must not hide the observer's full copy.
  const entries = entriesOf(payload);
  let fresh: number[] | null = null;
  let atMs = Number.NaN;
  for (const e of entries) {
    if (e.resource !== config.resource) continue;
    if (typeof e.partition !== 'number' || typeof e.epoch !== 'number') continue;
    const list = registered[e.partition];
    if (!list || e.epoch <= (list[list.length - 1]?.epoch ?? base[e.partition] ?? 0)) continue;
    if (Number.isNaN(atMs)) {
      const at = (payload as { at?: unknown } | null)?.at;
      atMs = typeof at === 'string' ? Date.parse(at) : Number.NaN;
      if (Number.isNaN(atMs)) return [];
    }
    list.push({ epoch: e.epoch, atMs });
    (fresh ??= []).push(e.partition);
  }
  return fresh ?? [];
}

/** The epoch `route()` answers for a key of `partition`; -1 while the client has no map yet. */
function epochOf(client: PartitionMapClient, partition: number): number {
  try {
    // partition() rather than route(key): the same map lookup without hashing a key.
    return client.partition(config.resource, partition).epoch;
  } catch {
    return -1;
  }
}

/**
 * Records the registered changes of `partition` that client `i` now routes to (each once, at
 * the first moment it is seen), and a route that went back to an older leader than one it was
 * seen to apply (counted once per client, partition and epoch). Called at every moment a route
 * can change: after the client's own event (for the partitions it carries), after a fetched map
 * is installed (every partition), and after a change is registered (every client).
 */
function check(i: number, partition: number, via: AppliedVia, now: number): void {
  const client = clients[i];
  const cursor = cursors[i];
  const list = registered[partition];
  if (!client || !cursor || !list) return;
  let k = cursor[partition] ?? 0;
  const epoch = epochOf(client, partition);
  const last = list[k - 1];
  if (last && epoch < last.epoch) {
    const key = `${i}/${partition}@${last.epoch}`;
    if (!wentBack.has(key)) {
      wentBack.add(key);
      regressions++;
    }
    return;
  }
  for (let c = list[k]; c && c.epoch <= epoch; c = list[++k]) {
    samples.push(partition, c.epoch, config.firstClient + i, now - c.atMs, VIA.indexOf(via));
  }
  cursor[partition] = k;
}

/** Checks the given partitions (all when omitted) of every client. */
function sweep(partitions?: readonly number[]): void {
  const now = Date.now();
  for (let i = 0; i < clients.length; i++) {
    if (partitions) for (const p of partitions) check(i, p, 'check', now);
    else for (let p = 0; p < registered.length; p++) check(i, p, 'check', now);
  }
}

/** The client's own map source, counted, with a check once each fetched map is installed. */
function countedSource(inner: MapSource, index: () => number): MapSource {
  return {
    async fetchMap(): Promise<MapViewV1> {
      mapFetches++;
      try {
        const map = await inner.fetchMap();
        // The client installs the map in the continuation of this promise; check right after.
        setImmediate(() => {
          const now = Date.now();
          for (let p = 0; p < registered.length; p++) check(index(), p, 'fetch', now);
        });
        return map;
      } catch (error) {
        fetchFailures++;
        throw error;
      }
    },
  };
}

/**
 * Strips the delta fields from `events.map` and drops `events.map.changes`, as an older
 * coordinator sent them: every new version is a refetch.
 */
function withoutDeltas(inner: MapEventSource): MapEventSource {
  return {
    subscribe(onEvent) {
      return inner.subscribe((kind, payload) => {
        if (kind === 'mapChanges') return;
        if (kind !== 'map' || typeof payload !== 'object' || payload === null) {
          onEvent(kind, payload);
          return;
        }
        const {
          changes: _changes,
          full: _full,
          reason: _reason,
          partitions: _partitions,
          chunks: _chunks,
          ...rest
        } = payload as Record<string, unknown>;
        onEvent(kind, rest);
      });
    },
  };
}

/** The client's own event stream, with a check right after the client has handled each event. */
function probedEvents(inner: MapEventSource, index: number): MapEventSource {
  return {
    subscribe(onEvent) {
      return inner.subscribe((kind, payload) => {
        onEvent(kind, payload);
        const fresh = register(payload);
        const now = Date.now();
        for (const e of entriesOf(payload)) {
          if (e.resource === config.resource && typeof e.partition === 'number')
            check(index, e.partition, 'event', now);
        }
        if (fresh.length > 0) sweep(fresh);
      });
    },
  };
}

async function startClient(i: number): Promise<void> {
  const connection = await connect({ servers: config.natsUrl, name: `bench-client-${i}` });
  connections.push(connection);
  const local = clients.length;
  const http = countedSource(
    new HttpMapSource(config.apiUrl, { token: config.token }),
    () => local,
  );
  let client: PartitionMapClient;
  switch (config.mode) {
    case 'events':
      client = new PartitionMapClient({
        source: http,
        events: probedEvents(natsMapEvents({ connection, cluster: config.cluster }), local),
      });
      break;
    case 'refetch':
      client = new PartitionMapClient({
        source: http,
        events: probedEvents(
          withoutDeltas(natsMapEvents({ connection, cluster: config.cluster })),
          local,
        ),
      });
      break;
    case 'poll':
      client = new PartitionMapClient({ source: http, refreshIntervalMs: config.pollMs });
      break;
  }
  clients.push(client);
  cursors.push(new Int32Array(registered.length));
  if (config.mode === 'poll') {
    // Independent applications poll out of phase: start each at a random point of the period.
    await new Promise((r) => setTimeout(r, Math.random() * config.pollMs));
  }
  await client.start();
}

async function main(): Promise<void> {
  const initial = await new HttpMapSource(config.apiUrl, { token: config.token }).fetchMap();
  const view = initial.resources.find((r) => r.name === config.resource);
  if (!view) throw new Error(`resource ${config.resource} is not in the map`);
  const observed = new Map<number, number>();
  for (const p of view.partitions) {
    registered[p.partition] = [];
    base[p.partition] = p.epoch;
    observed.set(p.partition, p.epoch);
  }

  // The observer: registers every change even if no client of this worker hears of it.
  const observer = await connect({ servers: config.natsUrl, name: 'bench-observer' });
  connections.push(observer);
  const decoder = new TextDecoder();
  const onObserved = (err: Error | null, msg: Msg): void => {
    if (err) return;
    const received = Date.now();
    let event: unknown;
    try {
      event = JSON.parse(decoder.decode(msg.data));
    } catch {
      return; // not JSON: nothing to track
    }
    const at = Date.parse(String((event as { at?: unknown } | null)?.at));
    for (const e of entriesOf(event)) {
      if (
        e.resource === config.resource &&
        typeof e.partition === 'number' &&
        typeof e.epoch === 'number' &&
        e.epoch > (observed.get(e.partition) ?? 0)
      ) {
        // How long the change itself took to reach a bare subscriber (commit, relay, NATS).
        observed.set(e.partition, e.epoch);
        deliveries.push({ partition: e.partition, epoch: e.epoch, latencyMs: received - at });
      }
    }
    const fresh = register(event);
    if (fresh.length > 0) sweep(fresh);
  };
  // The subjects the clients follow (natsMapEvents): the message that carries each change to them.
  for (const subject of [Subjects.events.map, Subjects.events.mapChanges]) {
    observer.subscribe(fullSubject(config.cluster, subject), { callback: onObserved });
  }
  await observer.flush();

  const starts: Promise<void>[] = [];
  for (let i = 0; i < config.clients; i++) starts.push(startClient(config.firstClient + i));
  await Promise.all(starts);
  send({ type: 'ready', clients: clients.length });
}

function sampleObjects(): Sample[] {
  const out: Sample[] = [];
  for (let j = 0; j < samples.length; j += SAMPLE_FIELDS) {
    out.push({
      partition: samples[j] ?? -1,
      epoch: samples[j + 1] ?? -1,
      client: samples[j + 2] ?? -1,
      latencyMs: samples[j + 3] ?? -1,
      via: VIA[samples[j + 4] ?? 0] ?? 'check',
    });
  }
  return out;
}

/** Registered changes some local client does not route to yet, with how many. */
function pendingChanges(): { partition: number; epoch: number; clients: number }[] {
  const pending: { partition: number; epoch: number; clients: number }[] = [];
  registered.forEach((list, partition) => {
    list.forEach((change, k) => {
      const behind = cursors.filter((cursor) => (cursor[partition] ?? 0) <= k).length;
      if (behind > 0) pending.push({ partition, epoch: change.epoch, clients: behind });
    });
  });
  return pending;
}

async function stop(): Promise<void> {
  for (const c of clients) c.close();
  await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
  process.exit(0);
}

process.on('message', (message: unknown) => {
  if (!isToWorker(message)) return;
  switch (message.type) {
    case 'report': {
      sweep();
      send({
        type: 'report',
        samples: sampleObjects(),
        pending: pendingChanges(),
        deliveries,
        mapFetches,
        fetchFailures,
        regressions,
        loopDelayMs: {
          p50: beyondSample(loopDelay.percentile(50)),
          p99: beyondSample(loopDelay.percentile(99)),
          max: beyondSample(loopDelay.max),
        },
      });
      loopDelay.reset();
      regressions = 0;
      samples = [];
      deliveries = [];
      mapFetches = 0;
      fetchFailures = 0;
      break;
    }
    case 'stop':
      void stop();
      break;
  }
});
// The benchmark went away: do not linger.
process.on('disconnect', () => void stop());

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
