import {
  type MapResourceV1,
  type MapViewV1,
  type PartitionViewV1,
  TesseraError,
  partitionForKey,
} from '@tessera/contracts';
import { type MapEventKind, type MapEventSource } from './map-events';
import { type MapSource } from './map-source';

/** What the client logs through (pino-compatible); silent by default. */
export interface ClientLogger {
  warn(obj: object, msg: string): void;
}

const silent: ClientLogger = { warn: () => undefined };

/** Where a key lives now. */
export interface Route {
  resource: string;
  partition: number;
  /** null while the partition is offline (or unknown). */
  leader: string | null;
  epoch: number;
  replicas: string[];
  isr: string[];
}

export interface PartitionMapClientOptions {
  source: MapSource;
  /** Live events; without them the map is refreshed on the timer and on demand only. */
  events?: MapEventSource;
  /**
   * Safety-net refresh (core NATS drops events while disconnected), ±10 % so a fleet of clients
   * started together does not refetch together; 0 turns it off. Default 30 s.
   */
  refreshIntervalMs?: number;
  /**
   * A refetch forced by a gap (missed events, a resource created or deleted) waits a random
   * 0..refetchJitterMs first, so clients that saw the same event do not all fetch at once.
   * Default 50 ms.
   */
  refetchJitterMs?: number;
  /**
   * How long entries of a version (chunks, leader events) may wait for their `events.map`
   * (published right after them) before the version counts as lost and the map is refetched.
   * Default 250 ms.
   */
  gapGraceMs?: number;
  logger?: ClientLogger;
}

/** A partition's entry and the map version it is known as of (the event's, or the fetched map's). */
interface Entry extends PartitionViewV1 {
  version: number;
}

interface IndexedResource {
  name: string;
  partitionCount: number;
  byPartition: Map<number, Entry>;
}

/** One changed entry of a version (from `events.map`, a chunk or a leader event), checked. */
interface LeaderDelta {
  version: number;
  resource: string;
  partition: number;
  leader: string | null;
  epoch: number;
  isr: string[];
  /** Absent from an older coordinator's events: the entry keeps the replicas it had. */
  replicas: string[] | null;
}

/** What arrived of one map version beyond the one held. */
interface PendingVersion {
  /** By resource and partition (a duplicate delivery replaces, never adds). */
  deltas: Map<string, LeaderDelta>;
  /** From its `events.map`: how many entries make the version, or that only a fetch can. */
  announced: { changes: number; full: boolean } | null;
  /** `received` when its first event arrived (a fetch started later must cover it). */
  receivedAt: number;
}

const MAX_CATCH_UP_FETCHES = 3;
/** A gap refetch that failed is tried again after this (plus jitter). */
const RETRY_AFTER_FAILURE_MS = 1_000;
/** Versions kept waiting beyond the one held; past this a refetch is due anyway. */
const MAX_PENDING_VERSIONS = 1_024;

/**
 * An entry built field by field, in the order apply() uses: routing reads entries on every
 * lookup, and a spread copy of a parsed object gets a slower hidden class (half the lookups/s).
 */
function entry(p: PartitionViewV1, version: number): Entry {
  return {
    partition: p.partition,
    replicas: p.replicas,
    leader: p.leader,
    epoch: p.epoch,
    isr: p.isr,
    version,
  };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

/** One changed entry of map `version` (a leader event, or an element of `partitions`); null if malformed. */
function parseDelta(payload: unknown, version: number): LeaderDelta | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const e = payload as Partial<Record<keyof LeaderDelta, unknown>>;
  if (typeof e.resource !== 'string' || !isInt(e.partition) || e.partition < 0) return null;
  if (!isInt(e.epoch) || e.epoch < 0 || !isStringArray(e.isr)) return null;
  if (!(e.leader === null || typeof e.leader === 'string')) return null;
  if (!(e.replicas === undefined || isStringArray(e.replicas))) return null;
  return {
    version,
    resource: e.resource,
    partition: e.partition,
    leader: e.leader,
    epoch: e.epoch,
    isr: e.isr,
    replicas: e.replicas ?? null,
  };
}

/** A message's `partitions` list, all or nothing (a malformed one leaves its version incomplete). */
function parseDeltas(list: unknown, version: number): LeaderDelta[] | null {
  if (!Array.isArray(list)) return null;
  const deltas: LeaderDelta[] = [];
  for (const item of list) {
    const d = parseDelta(item, version);
    if (!d) return null;
    deltas.push(d);
  }
  return deltas;
}

/**
 * The partition map, kept live: bootstrapped from the coordinator, then advanced version by
 * version from events, without refetching. Each map version V's changed entries come in
 * `events.map { version: V, changes, partitions }`, one message (or, for a version of more than
 * MAP_EVENT_MAX_ENTRIES changes, in `events.map.changes` chunks before it); a custom event
 * source may also feed the per-partition `events.partition.leader` events.
 *
 * - A changed entry is applied to routing as soon as it arrives, when it is newer (map version)
 *   than what the partition holds and not of an older leader epoch.
 * - Entries are buffered per version; once the client holds V-1 and has `events.map` V and all
 *   `changes` entries of V, it holds V (and then any complete later versions, in order).
 * - A real gap (a version whose entries went missing, a resource created or deleted, an entry
 *   for a resource or partition the client does not know, an `events.map` without `changes`
 *   or entries from an older coordinator) makes it refetch, after a random jitter and coalesced.
 * - A fetched map never takes a partition back: an entry from an event newer than the map is kept.
 *
 * `version` is the newest version held in full; entries may be newer (applied from events).
 */
export class PartitionMapClient {
  /** Newest map version held in full; -1 before the first fetch. */
  private held = -1;
  private index = new Map<string, IndexedResource>();
  private view: MapViewV1 | null = null;
  private readonly pending = new Map<number, PendingVersion>();
  /** Counts events and fetch starts, to tell what a fetch must have covered. */
  private received = 0;
  private fetching: Promise<MapViewV1> | null = null;
  private unsubscribe: (() => void) | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private catchUpTimer: NodeJS.Timeout | null = null;
  private catchUpDue = 0;
  private closed = false;
  private readonly log: ClientLogger;
  private readonly jitterMs: number;
  private readonly graceMs: number;

  constructor(private readonly options: PartitionMapClientOptions) {
    this.log = options.logger ?? silent;
    this.jitterMs = Math.max(0, options.refetchJitterMs ?? 50);
    this.graceMs = Math.max(0, options.gapGraceMs ?? 250);
  }

  /** Fetches the map (throws if it cannot) and starts following events. */
  async start(): Promise<void> {
    this.closed = false;
    // Subscribe first: events that land during the fetch are buffered and applied after it.
    this.unsubscribe ??=
      this.options.events?.subscribe((kind, payload) => this.onEvent(kind, payload)) ?? null;
    await this.refresh();
    this.scheduleRefresh();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.cancelCatchUp();
  }

  /** The map as routed now: version held in full, entries possibly newer (from events). */
  get map(): MapViewV1 {
    if (this.held < 0) throw new TesseraError('UNAVAILABLE', 'the partition map is not loaded yet');
    this.view ??= {
      version: this.held,
      resources: [...this.index.values()].map((r): MapResourceV1 => ({
        name: r.name,
        partitionCount: r.partitionCount,
        partitions: [...r.byPartition.values()]
          .sort((a, b) => a.partition - b.partition)
          .map(({ partition, replicas, leader, epoch, isr }) => ({
            partition,
            replicas,
            leader,
            epoch,
            isr,
          })),
      })),
    };
    return this.view;
  }

  get version(): number {
    return this.held;
  }

  /** Key → partition → leader, with the API's partitioner. Throws NOT_FOUND for an unknown resource. */
  route(resource: string, key: string): Route {
    const r = this.resource(resource);
    return this.routeIn(r, partitionForKey(key, r.partitionCount));
  }

  /** The route of one partition. */
  partition(resource: string, partition: number): Route {
    const r = this.resource(resource);
    if (!Number.isInteger(partition) || partition < 0 || partition >= r.partitionCount) {
      throw new TesseraError('NOT_FOUND', `${resource} has no partition ${partition}`);
    }
    return this.routeIn(r, partition);
  }

  /**
   * Refetches the map now (KvClient does after NOT_LEADER). Concurrent calls share one fetch; a
   * result older than the map held is ignored, and never takes a partition back.
   */
  refresh(): Promise<MapViewV1> {
    this.fetching ??= this.fetchUntilCurrent().finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }

  private async fetchUntilCurrent(): Promise<MapViewV1> {
    for (let i = 1; ; i++) {
      const startedAt = ++this.received;
      this.install(await this.options.source.fetchMap());
      if (!this.missedBy(startedAt)) break;
      if (i >= MAX_CATCH_UP_FETCHES) {
        this.dropMissed(startedAt);
        break;
      }
    }
    if (this.behind()) this.scheduleCatchUp(this.certainGap());
    return this.map;
  }

  /**
   * A version announced before the fetch started is still beyond the map held. The coordinator
   * commits a version before announcing it, so a fetch started later should have reached it:
   * the answer was stale (a cache in between?), so it is fetched again at once.
   */
  private missedBy(fetchStartedAt: number): boolean {
    for (const p of this.pending.values()) if (p.receivedAt < fetchStartedAt) return true;
    return false;
  }

  /** After the last catch-up fetch: versions the coordinator does not have (stray events). */
  private dropMissed(fetchStartedAt: number): void {
    for (const [version, p] of this.pending) {
      if (p.receivedAt >= fetchStartedAt) continue;
      this.pending.delete(version);
      this.log.warn(
        { version, held: this.held },
        'dropping events of a map version the coordinator does not serve',
      );
    }
  }

  private install(map: MapViewV1): void {
    // The same version is installed again (it changes nothing unless the entries went astray).
    if (map.version < this.held) return;
    const previous = this.index;
    this.index = new Map(
      map.resources.map((view) => {
        const before = previous.get(view.name);
        const byPartition = new Map<number, Entry>();
        for (const p of view.partitions) {
          const kept = before?.byPartition.get(p.partition);
          // An entry from an event newer than this map stays: the map was read before it.
          byPartition.set(
            p.partition,
            kept && kept.version > map.version ? kept : entry(p, map.version),
          );
        }
        return [view.name, { name: view.name, partitionCount: view.partitionCount, byPartition }];
      }),
    );
    this.held = map.version;
    this.view = null;
    for (const v of this.pending.keys()) if (v <= this.held) this.pending.delete(v);
    // Buffered events of later versions may name what only this map made known.
    for (const v of [...this.pending.keys()].sort((a, b) => a - b)) {
      for (const d of this.pending.get(v)?.deltas.values() ?? []) this.apply(d);
    }
    this.advance();
  }

  private resource(name: string): IndexedResource {
    const r = this.index.get(name);
    if (!r) {
      if (this.held < 0)
        throw new TesseraError('UNAVAILABLE', 'the partition map is not loaded yet');
      throw new TesseraError('NOT_FOUND', `resource ${name} is not in map version ${this.held}`);
    }
    return r;
  }

  private routeIn(r: IndexedResource, partition: number): Route {
    const p = r.byPartition.get(partition);
    return {
      resource: r.name,
      partition,
      leader: p?.leader ?? null,
      epoch: p?.epoch ?? 0,
      replicas: p?.replicas ?? [],
      isr: p?.isr ?? [],
    };
  }

  // ---- events ------------------------------------------------------------------------------

  private onEvent(kind: MapEventKind, payload: unknown): void {
    if (this.closed || typeof payload !== 'object' || payload === null) return;
    const version = (payload as { version?: unknown }).version;
    if (!isInt(version) || version < 0) return;
    if (this.held >= 0 && version <= this.held) return; // held already, or older
    let known = true;
    switch (kind) {
      case 'partitionLeader': {
        // A malformed one leaves its version incomplete: the gap check refetches.
        const delta = parseDelta(payload, version);
        if (delta) known = this.take(version, [delta]);
        break;
      }
      case 'mapChanges': {
        const deltas = parseDeltas((payload as { partitions?: unknown }).partitions, version);
        if (deltas) known = this.take(version, deltas);
        break;
      }
      case 'map': {
        const e = payload as { changes?: unknown; full?: unknown; partitions?: unknown };
        const expressible = isInt(e.changes) && e.changes >= 0 && e.full !== true;
        // The version's entries inline (a coordinator that sends them): usually all there is to it.
        const inline =
          expressible && e.partitions !== undefined ? parseDeltas(e.partitions, version) : null;
        if (inline) known = this.take(version, inline);
        this.pendingAt(version).announced = {
          changes: expressible ? (e.changes as number) : 0,
          full: !expressible,
        };
        break;
      }
    }
    this.advance();
    if (!this.behind()) {
      this.cancelCatchUp();
      return;
    }
    // Certain: this announcement could not be applied, or the event names what we do not know.
    this.scheduleCatchUp(!known || (kind === 'map' && this.pending.has(version)));
  }

  private pendingAt(version: number): PendingVersion {
    let p = this.pending.get(version);
    if (!p) {
      p = { deltas: new Map(), announced: null, receivedAt: ++this.received };
      this.pending.set(version, p);
      if (this.pending.size > MAX_PENDING_VERSIONS) {
        const lowest = Math.min(...this.pending.keys());
        this.pending.delete(lowest);
      }
    }
    return p;
  }

  /** Buffers changed entries of `version` and routes by them now; false if one names the unknown. */
  private take(version: number, deltas: LeaderDelta[]): boolean {
    const pending = this.pendingAt(version);
    let known = true;
    for (const d of deltas) {
      pending.deltas.set(`${d.partition}/${d.resource}`, d);
      if (!this.apply(d)) known = false;
    }
    return known;
  }

  /**
   * Routes by a changed entry now if it is newer (by map version) than the partition's entry and
   * not of an older leader epoch. Returns false when the resource or partition is unknown.
   */
  private apply(d: LeaderDelta): boolean {
    const r = this.index.get(d.resource);
    if (!r || d.partition >= r.partitionCount) return false;
    const entry = r.byPartition.get(d.partition);
    if (entry && (d.version <= entry.version || d.epoch < entry.epoch)) return true;
    r.byPartition.set(d.partition, {
      partition: d.partition,
      replicas: d.replicas ?? entry?.replicas ?? [],
      leader: d.leader,
      epoch: d.epoch,
      isr: d.isr,
      version: d.version,
    });
    this.view = null;
    return true;
  }

  /** Holds each next version whose events are all here (they are applied already). */
  private advance(): void {
    if (this.held < 0) return;
    for (;;) {
      const next = this.pending.get(this.held + 1);
      if (!next?.announced || next.announced.full) return;
      if (next.deltas.size !== next.announced.changes) return;
      for (const d of next.deltas.values()) if (!this.apply(d)) return; // unknown: refetch
      this.pending.delete(this.held + 1);
      this.held += 1;
      this.view = null;
    }
  }

  /** Events announced a version beyond the one held that the buffered events do not reach. */
  private behind(): boolean {
    return this.held >= 0 && this.pending.size > 0;
  }

  /**
   * A refetch after a random jitter. Sooner when the gap is certain (an `events.map` came that
   * cannot be applied: entries of its version are missing, or it needs a fetch); after the
   * grace when only chunks or leader events arrived so far (their `events.map` is likely on its way). When
   * the timer fires, nothing is fetched if the events filled the gap meanwhile.
   */
  private scheduleCatchUp(certain: boolean, afterMs = certain ? 0 : this.graceMs): void {
    if (this.closed || this.held < 0) return;
    const due = Date.now() + afterMs + Math.random() * this.jitterMs;
    if (this.catchUpTimer && this.catchUpDue <= due) return;
    this.cancelCatchUp();
    this.catchUpDue = due;
    this.catchUpTimer = setTimeout(
      () => {
        this.catchUpTimer = null;
        this.advance();
        if (!this.behind()) return;
        this.refresh().catch((error: unknown) => {
          this.log.warn({ err: error, held: this.held }, 'map refetch after a gap failed');
          if (this.behind()) this.scheduleCatchUp(true, RETRY_AFTER_FAILURE_MS);
        });
      },
      Math.max(0, due - Date.now()),
    );
    this.catchUpTimer.unref();
  }

  private cancelCatchUp(): void {
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    this.catchUpTimer = null;
  }

  /** Whether the buffered events show a gap only a fetch fills (see scheduleCatchUp). */
  private certainGap(): boolean {
    for (const p of this.pending.values()) {
      if (p.announced) return true;
      for (const d of p.deltas.values()) {
        const r = this.index.get(d.resource);
        if (!r || d.partition >= r.partitionCount) return true;
      }
    }
    return false;
  }

  private scheduleRefresh(): void {
    const every = this.options.refreshIntervalMs ?? 30_000;
    if (every <= 0 || this.refreshTimer || this.closed) return;
    this.refreshTimer = setTimeout(
      () => {
        this.refreshTimer = null;
        this.refresh()
          .catch((error: unknown) => this.log.warn({ err: error }, 'periodic map refresh failed'))
          .finally(() => this.scheduleRefresh());
      },
      every * (0.9 + 0.2 * Math.random()),
    );
    this.refreshTimer.unref();
  }
}
