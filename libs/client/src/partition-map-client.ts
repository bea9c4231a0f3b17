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
  /** Safety-net refresh (core NATS drops events while disconnected); 0 turns it off. */
  refreshIntervalMs?: number;
  logger?: ClientLogger;
}

interface IndexedResource {
  view: MapResourceV1;
  byPartition: Map<number, PartitionViewV1>;
}

const MAX_CATCH_UP_FETCHES = 3;

/**
 * The partition map, kept live: bootstrapped from the coordinator, then refetched whenever an
 * event carries a newer map version than the one held (an event's version beyond ours means we
 * are behind, whether by that change or by events we missed). Leader events are applied at once
 * as hints, so routing follows a failover before the refetch lands.
 */
export class PartitionMapClient {
  private current: MapViewV1 | null = null;
  private index = new Map<string, IndexedResource>();
  /** Highest map version any event announced. */
  private latestSeen = 0;
  private fetching: Promise<MapViewV1> | null = null;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: ClientLogger;

  constructor(private readonly options: PartitionMapClientOptions) {
    this.log = options.logger ?? silent;
  }

  /** Fetches the map (throws if it cannot) and starts following events. */
  async start(): Promise<void> {
    // Subscribe first: an event that lands during the fetch still triggers a catch-up.
    this.unsubscribe ??=
      this.options.events?.subscribe((kind, payload) => this.onEvent(kind, payload)) ?? null;
    await this.refresh();
    const every = this.options.refreshIntervalMs ?? 30_000;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => {
        this.refresh().catch((error: unknown) =>
          this.log.warn({ err: error }, 'periodic map refresh failed'),
        );
      }, every);
      this.timer.unref();
    }
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get map(): MapViewV1 {
    if (!this.current) throw new TesseraError('UNAVAILABLE', 'the partition map is not loaded yet');
    return this.current;
  }

  get version(): number {
    return this.current?.version ?? -1;
  }

  /** Key → partition → leader, with the API's partitioner. Throws NOT_FOUND for an unknown resource. */
  route(resource: string, key: string): Route {
    const r = this.resource(resource);
    return this.routeIn(r, partitionForKey(key, r.view.partitionCount));
  }

  /** The route of one partition. */
  partition(resource: string, partition: number): Route {
    const r = this.resource(resource);
    if (!Number.isInteger(partition) || partition < 0 || partition >= r.view.partitionCount) {
      throw new TesseraError('NOT_FOUND', `${resource} has no partition ${partition}`);
    }
    return this.routeIn(r, partition);
  }

  /**
   * Refetches the map. Concurrent calls share one fetch; a result older than the map held is
   * ignored; if events announced a version the result does not reach yet, it fetches again.
   */
  refresh(): Promise<MapViewV1> {
    this.fetching ??= this.fetchUntilCurrent().finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }

  private async fetchUntilCurrent(): Promise<MapViewV1> {
    let map = await this.options.source.fetchMap();
    this.install(map);
    for (let i = 1; i < MAX_CATCH_UP_FETCHES && this.version < this.latestSeen; i++) {
      map = await this.options.source.fetchMap();
      this.install(map);
    }
    return this.map;
  }

  private install(map: MapViewV1): void {
    if (this.current && map.version < this.current.version) return;
    this.current = map;
    this.index = new Map(
      map.resources.map((view) => [
        view.name,
        { view, byPartition: new Map(view.partitions.map((p) => [p.partition, p])) },
      ]),
    );
  }

  private resource(name: string): IndexedResource {
    const r = this.index.get(name);
    if (!r) {
      if (!this.current)
        throw new TesseraError('UNAVAILABLE', 'the partition map is not loaded yet');
      throw new TesseraError(
        'NOT_FOUND',
        `resource ${name} is not in map version ${this.current.version}`,
      );
    }
    return r;
  }

  private routeIn(r: IndexedResource, partition: number): Route {
    const p = r.byPartition.get(partition);
    return {
      resource: r.view.name,
      partition,
      leader: p?.leader ?? null,
      epoch: p?.epoch ?? 0,
      replicas: p?.replicas ?? [],
      isr: p?.isr ?? [],
    };
  }

  private onEvent(kind: MapEventKind, payload: unknown): void {
    const e = payload as { version?: unknown } | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.version !== 'number' ||
      !Number.isSafeInteger(e.version)
    )
      return;
    const version = e.version;
    if (kind === 'partitionLeader') this.applyLeaderHint(payload, version);
    if (version > this.latestSeen) this.latestSeen = version;
    if (this.current && version > this.current.version) {
      this.refresh().catch((error: unknown) =>
        this.log.warn({ err: error, version }, 'map refresh after an event failed'),
      );
    }
  }

  /** A newer leader for one partition: route to it now, the refetch confirms it. */
  private applyLeaderHint(payload: unknown, version: number): void {
    if (!this.current || version <= this.current.version) return;
    const e = payload as {
      resource?: unknown;
      partition?: unknown;
      leader?: unknown;
      epoch?: unknown;
      isr?: unknown;
    };
    if (
      typeof e.resource !== 'string' ||
      typeof e.partition !== 'number' ||
      typeof e.epoch !== 'number'
    )
      return;
    if (!(e.leader === null || typeof e.leader === 'string')) return;
    const r = this.index.get(e.resource);
    const p = r?.byPartition.get(e.partition);
    if (!r || !p || e.epoch < p.epoch) return;
    const isr =
      Array.isArray(e.isr) && e.isr.every((s) => typeof s === 'string')
        ? (e.isr as string[])
        : p.isr;
    r.byPartition.set(e.partition, { ...p, leader: e.leader, epoch: e.epoch, isr });
  }
}
