import { type MapViewV1 } from '@tessera/contracts';
import { MapViewCache } from './map-view.cache';

/** A map store whose version and reads the test controls. */
class FakeStore {
  version = 1;
  /** What a build sees: normally the version read, unless a commit lands in between. */
  builtVersion: number | null = null;
  builds: (string | undefined)[] = [];
  lookups: string[] = [];
  failNext = false;

  readonly sut = new MapViewCache({
    readVersion: async () => this.version,
    build: async (resource) => {
      this.builds.push(resource);
      await Promise.resolve();
      if (this.failNext) {
        this.failNext = false;
        throw new Error('database went away');
      }
      const version = this.builtVersion ?? this.version;
      return {
        version,
        resources: resource === 'none' ? [] : [{ name: resource ?? 'all', partitionCount: 1, partitions: [] }],
      } satisfies MapViewV1;
    },
    onLookup: (result) => this.lookups.push(result),
    maxEntries: 3,
  });
}

describe(MapViewCache.name, () => {
  let store: FakeStore;

  beforeEach(() => {
    store = new FakeStore();
  });

  it('shares one build among concurrent lookups of one version, view and JSON alike', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => store.sut.get()));
    expect(store.builds).toEqual([undefined]);
    expect(new Set(answers).size).toBe(1);
    expect(answers[0].json).toBe(JSON.stringify(answers[0].view));
    expect(store.lookups.filter((r) => r === 'build')).toHaveLength(1);
    expect(Object.isFrozen(answers[0].view.resources[0])).toBe(true);
  });

  it('builds again once the version moved, and keeps no older version', async () => {
    await store.sut.get();
    await store.sut.get('orders');
    store.version = 2;
    expect((await store.sut.get()).view.version).toBe(2);
    expect(store.sut.size).toBe(1);
    expect(store.builds).toEqual([undefined, 'orders', undefined]);
  });

  it('labels an answer with the version it was built at', async () => {
    // Version 1 read, then a commit: the snapshot sees version 2.
    store.builtVersion = 2;
    expect((await store.sut.get()).view.version).toBe(2);
    store.version = 2;
    await store.sut.get();
    expect(store.builds).toHaveLength(1);
  });

  it('does not keep a failed build', async () => {
    store.failNext = true;
    await expect(store.sut.get()).rejects.toThrow('database went away');
    await expect(store.sut.get()).resolves.toMatchObject({ view: { version: 1 } });
    expect(store.builds).toHaveLength(2);
  });

  it('keeps each filter apart and at most maxEntries of them', async () => {
    for (const r of ['a', 'b', 'c', 'd']) await store.sut.get(r);
    expect(store.sut.size).toBe(3);
    expect((await store.sut.get('none')).view.resources).toEqual([]);
    await store.sut.get('d');
    expect(store.builds).toEqual(['a', 'b', 'c', 'd', 'none']);
  });
});
