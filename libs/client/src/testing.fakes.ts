import { type MapResourceV1, type MapViewV1 } from '@tessera/contracts';
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
