/**
 * Hosts a share of the benchmark's PartitionMapClients, each with its own NATS connection, and
 * records when each one routes to each new leader. Started by client.bench.ts (Node IPC).
 *
 * A leader change is known by the map message that carries it to the clients (`events.map` with
 * the version's entries inline, or an `events.map.changes` chunk; partition, new epoch, `at` =
 * the map change's transaction time). A client has applied it once its route for that partition
 * (`partition(resource, p)`, the lookup behind `route(resource, key)`) has that epoch or a later
 * one. Route is checked at every moment it can change: right after the client's own event is delivered (the leader hint) and right after each
 * map fetch it makes is installed. A change is registered by whichever sees it first: a client's
 * event or this worker's own observer connection (so a client that misses the event is still
 * tracked), and every client is checked once when it is registered.
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

interface Change {
  partition: number;
  epoch: number;
  atMs: number;
  /** Local client indexes that do not route to this epoch yet. */
  remaining: Set<number>;
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
const changes = new Map<string, Change>();
/** Highest epoch registered per partition (seeded from the map at start). */
const highest = new Map<number, number>();
let samples: Sample[] = [];
let deliveries: { partition: number; epoch: number; latencyMs: number }[] = [];
/** Per local client: the highest epoch it was seen to route to, by partition. */
const applied: Map<number, number>[] = [];
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

/** The partitions of the benchmark's resource a map message carries. */
function touchedBy(payload: unknown): number[] {
  const touched: number[] = [];
  for (const e of entriesOf(payload)) {
    if (e.resource === config.resource && typeof e.partition === 'number')
      touched.push(e.partition);
  }
  return touched;
}

/** Map messages this worker has registered (version, and chunk for `events.map.changes`). */
const registered = new Set<string>();

/** Registers the leader changes a map message carries; true when one is new to this worker. */
function register(payload: unknown): boolean {
  const entries = entriesOf(payload);
  // Without entries (a refetch-mode client's stripped copy) there is nothing to register, and it
  // must not hide the observer's full copy. Each of the worker's clients gets the same message:
  // the probe reads it once, so that its own CPU beside the clients being measured stays small.
  if (entries.length === 0) return false;
  const { version, chunk } = payload as { version?: unknown; chunk?: unknown };
  const id = `${String(version)}/${String(chunk)}`;
  if (registered.has(id)) return false;
  registered.add(id);
  const at = (payload as { at?: unknown } | null)?.at;
  if (typeof at !== 'string') return false;
  const atMs = Date.parse(at);
  if (Number.isNaN(atMs)) return false;
  let fresh = false;
  for (const e of entries) {
    if (e.resource !== config.resource) continue;
    if (typeof e.partition !== 'number' || typeof e.epoch !== 'number') continue;
    if (e.epoch <= (highest.get(e.partition) ?? 0)) continue;
    highest.set(e.partition, e.epoch);
    changes.set(`${e.partition}@${e.epoch}`, {
      partition: e.partition,
      epoch: e.epoch,
      atMs,
      remaining: new Set(clients.map((_, i) => i)),
    });
    fresh = true;
  }
  return fresh;
}

/** The epoch `route()` answers for a key of `partition`; -1 while the client has no map yet. */
function epochOf(client: PartitionMapClient, partition: number): number {
  try {
    // partition() rather than route(key): the same map lookup without hashing a key, so that the
    // probe (run for every client at every event) costs the measured processes little CPU.
    return client.partition(config.resource, partition).epoch;
  } catch {
    return -1;
  }
}

/**
 * Records every pending change client `i` now routes to. At the client's own moments also checks
 * that it still routes to every epoch it was seen to apply, where the moment could have changed
 * a route: an installed fetch (any partition) or an event (the partitions it carries; `touched`).
 * A route that goes back to an older leader is counted once per client, partition and epoch.
 * Checking only what an event touched keeps this probe's CPU, spent beside the clients on the
 * same cores, small against theirs.
 */
function check(i: number, via: AppliedVia, touched: readonly number[] = []): void {
  const client = clients[i];
  if (!client) return;
  const seen = (applied[i] ??= new Map());
  const wentBackAt = (partition: number, epoch: number): void => {
    if (epochOf(client, partition) >= epoch) return;
    const key = `${i}/${partition}@${epoch}`;
    if (wentBack.has(key)) return;
    wentBack.add(key);
    regressions++;
  };
  if (via === 'fetch') for (const [partition, epoch] of seen) wentBackAt(partition, epoch);
  if (via === 'event') {
    for (const partition of touched) {
      const epoch = seen.get(partition);
      if (epoch !== undefined) wentBackAt(partition, epoch);
    }
  }
  if (changes.size === 0) return;
  const now = Date.now();
  for (const [id, c] of changes) {
    if (!c.remaining.has(i) || epochOf(client, c.partition) < c.epoch) continue;
    samples.push({
      partition: c.partition,
      epoch: c.epoch,
      client: config.firstClient + i,
      latencyMs: now - c.atMs,
      via,
    });
    seen.set(c.partition, Math.max(seen.get(c.partition) ?? 0, c.epoch));
    c.remaining.delete(i);
    if (c.remaining.size === 0) changes.delete(id);
  }
}

function sweep(): void {
  for (let i = 0; i < clients.length; i++) check(i, 'check');
}

/** The client's own map source, counted, with a check once each fetched map is installed. */
function countedSource(inner: MapSource, index: () => number): MapSource {
  return {
    async fetchMap(): Promise<MapViewV1> {
      mapFetches++;
      try {
        const map = await inner.fetchMap();
        // The client installs the map in the continuation of this promise; check right after.
        setImmediate(() => check(index(), 'fetch'));
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
        check(index, 'event', touchedBy(payload));
        if (fresh) sweep();
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
  for (const p of view.partitions) highest.set(p.partition, p.epoch);
  const observed = new Map(highest);

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
    if (register(event)) sweep();
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
      const pending = [...changes.values()].map((c) => ({
        partition: c.partition,
        epoch: c.epoch,
        clients: c.remaining.size,
      }));
      send({
        type: 'report',
        samples,
        deliveries,
        pending,
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
