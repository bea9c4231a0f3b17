import { type MapResourceV1, type MapViewV1, mapVersionMessages } from '@tessera/contracts';
import { type MapEventKind, type MapEventSource } from './map-events';
import { type MapSource } from './map-source';

/** Test doubles shared by this lib's specs. */
export class FakeMapSource implements MapSource {
  calls = 0;
  failWith: Error | null = null;

  constructor(public map: MapViewV1) {}

  async fetchMap(): Promise<MapViewV1> {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return structuredClone(this.map);
  }
}

export class FakeEvents implements MapEventSource {
  private handler: ((kind: MapEventKind, payload: unknown) => void) | null = null;
  unsubscribed = false;

  subscribe(onEvent: (kind: MapEventKind, payload: unknown) => void): () => void {
    this.handler = onEvent;
    return () => {
      this.unsubscribed = true;
    };
  }

  emit(kind: MapEventKind, payload: unknown): void {
    this.handler?.(kind, payload);
  }
}

/** A resource with `count` partitions, each led by `leaders[p % leaders.length]` at `epoch`. */
export function resource(name: string, count: number, leaders: string[], epoch = 1): MapResourceV1 {
  return {
    name,
    partitionCount: count,
    partitions: Array.from({ length: count }, (_, p) => ({
      partition: p,
      replicas: leaders,
      leader: leaders[p % leaders.length],
      epoch,
      isr: leaders,
    })),
  };
}

type Published = { kind: MapEventKind; payload: Record<string, unknown> };

/** One partition's new state in a FakeCoordinator commit. */
export interface PartitionChange {
  resource: string;
  partition: number;
  leader: string | null;
  epoch: number;
  isr: string[];
  replicas: string[];
}

/**
 * How a FakeCoordinator's versions reach the client: as natsMapEvents delivers what
 * map.service.ts publishes (the entries in `events.map`, or in `events.map.changes` chunks of
 * at most `maxEntries` before it), or as a custom source of `events.partition.leader` would.
 */
export type Delivery = { kind: 'map'; maxEntries: number } | { kind: 'leader-events' };

/**
 * The coordinator's side of the map, as map.service.ts writes it: every commit is one map
 * version, announced by `events.map` with its changed entries (or `full` when a resource came or
 * went). Keeps every version's map, so a fetch can be answered with any version that was
 * current while it was in flight.
 */
export class FakeCoordinator {
  version: number;
  private readonly resources = new Map<string, MapResourceV1>();
  private readonly history = new Map<number, MapViewV1>();

  constructor(
    initial: MapViewV1,
    private readonly delivery: Delivery = { kind: 'map', maxEntries: 1_000 },
  ) {
    this.version = initial.version;
    for (const r of initial.resources) this.resources.set(r.name, structuredClone(r));
    this.history.set(this.version, this.snapshot());
  }

  get current(): MapViewV1 {
    return this.at(this.version);
  }

  at(version: number): MapViewV1 {
    const map = this.history.get(version);
    if (!map) throw new Error(`no map version ${version}`);
    return structuredClone(map);
  }

  resourceNames(): string[] {
    return [...this.resources.keys()].sort();
  }

  resource(name: string): MapResourceV1 | undefined {
    return this.resources.get(name);
  }

  /** Commits partition changes as one version; returns the events in publication order. */
  change(changes: PartitionChange[]): Published[] {
    const version = this.bump();
    for (const c of changes) {
      const r = this.resources.get(c.resource);
      if (!r) throw new Error(`no resource ${c.resource}`);
      const { resource: _resource, ...entry } = c;
      r.partitions[c.partition] = { ...entry };
    }
    this.history.set(version, this.snapshot());
    if (this.delivery.kind === 'leader-events') {
      const events: Published[] = changes.map((c) => ({
        kind: 'partitionLeader',
        payload: { ...this.envelope(version), ...c },
      }));
      events.push(
        this.announce(version, {
          changes: events.length,
          full: false,
          reason: 'PARTITIONS_CHANGED',
        }),
      );
      return events;
    }
    const { chunks, announce } = mapVersionMessages(version, changes, {
      maxEntries: this.delivery.maxEntries,
    });
    return [
      ...chunks.map((c): Published => ({
        kind: 'mapChanges',
        payload: { ...this.envelope(version), ...c },
      })),
      this.announce(version, announce),
    ];
  }

  create(view: MapResourceV1): Published[] {
    const version = this.bump();
    this.resources.set(view.name, structuredClone(view));
    this.history.set(version, this.snapshot());
    return [this.announce(version, { changes: 0, full: true, reason: 'RESOURCE_CREATED' })];
  }

  delete(name: string): Published[] {
    const version = this.bump();
    this.resources.delete(name);
    this.history.set(version, this.snapshot());
    return [this.announce(version, { changes: 0, full: true, reason: 'RESOURCE_DELETED' })];
  }

  private bump(): number {
    return ++this.version;
  }

  private envelope(version: number): Record<string, unknown> {
    return { eventId: `e-${version}-${Math.random()}`, at: new Date().toISOString(), version };
  }

  private announce(version: number, fields: Record<string, unknown>): Published {
    return { kind: 'map', payload: { ...this.envelope(version), ...fields } };
  }

  private snapshot(): MapViewV1 {
    return {
      version: this.version,
      resources: [...this.resources.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((r) => structuredClone(r)),
    };
  }
}

/** A map source whose fetches stay in flight until the test answers them. */
export class ControlledMapSource implements MapSource {
  calls = 0;
  readonly inFlight: {
    /** The coordinator's version when the request was made: the answer is at least that. */
    from: number;
    resolve: (map: MapViewV1) => void;
    reject: (error: Error) => void;
  }[] = [];

  constructor(private readonly coordinator: FakeCoordinator) {}

  fetchMap(): Promise<MapViewV1> {
    this.calls++;
    return new Promise((resolve, reject) => {
      this.inFlight.push({ from: this.coordinator.version, resolve, reject });
    });
  }

  /** Answers request `i` (mod the number in flight) with a version current while it was in flight. */
  answer(i: number, pick: number, fail = false): void {
    if (this.inFlight.length === 0) return;
    const [request] = this.inFlight.splice(i % this.inFlight.length, 1);
    if (fail) return request.reject(new Error('coordinator unavailable'));
    const span = this.coordinator.version - request.from + 1;
    request.resolve(this.coordinator.at(request.from + (pick % span)));
  }

  answerAllWithCurrent(): void {
    for (const request of this.inFlight.splice(0)) request.resolve(this.coordinator.current);
  }
}
