import { type MapViewV1 } from '@tessera/contracts';

/** One answer of `GET /map`: the view and its JSON, both made once per version and filter. */
export interface CachedMapView {
  readonly view: MapViewV1;
  readonly json: string;
}

export interface MapViewCacheOptions {
  /** The current map version; called on every lookup, so it must be cheap (a primary-key read). */
  readVersion: () => Promise<number>;
  /** Builds the view of the current version (its own `version` may be newer than the one read). */
  build: (resource: string | undefined) => Promise<MapViewV1>;
  /** Distinct `?resource=` filters kept at once (any string can be asked for). */
  maxEntries?: number;
  /** Called once per lookup, for the hit/build counter. */
  onLookup?: (result: 'hit' | 'build') => void;
}

interface Entry {
  /** The version the entry is known to hold: the one read before the build, then the built one's. */
  version: number;
  built: Promise<CachedMapView>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The partition map per map version and `?resource=` filter. Every lookup reads the current
 * version first and serves the cached answer only when it is of that very version, so a change
 * committed by another coordinator instance is never hidden; a burst of lookups of one version
 * shares one build (one query) and one serialisation. An older version's answers are dropped
 * as soon as a newer version is read.
 */
export class MapViewCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(private readonly options: MapViewCacheOptions) {
    this.maxEntries = options.maxEntries ?? 64;
  }

  async get(resource?: string): Promise<CachedMapView> {
    const version = await this.options.readVersion();
    const key = resource === undefined ? '*' : `=${resource}`;
    const cached = this.entries.get(key);
    if (cached && cached.version === version) {
      this.options.onLookup?.('hit');
      return cached.built;
    }
    this.options.onLookup?.('build');
    this.evictOlderThan(version);
    if (this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: drop the filter cached longest ago.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const entry: Entry = { version, built: this.build(resource) };
    this.entries.set(key, entry);
    entry.built.then(
      (answer) => {
        // Built inside its own snapshot, possibly after a newer commit: label it with its own.
        entry.version = answer.view.version;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.built;
  }

  /** Cached filters (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private async build(resource: string | undefined): Promise<CachedMapView> {
    const view = deepFreeze(await this.options.build(resource));
    return { view, json: JSON.stringify(view) };
  }

  private evictOlderThan(version: number): void {
    for (const [key, entry] of this.entries) if (entry.version < version) this.entries.delete(key);
  }
}
