import 'reflect-metadata';
import { type MapViewV1, TesseraError, partitionForKey } from '@tessera/contracts';
import { PartitionMapClient } from './partition-map-client';
import {
  ControlledMapSource,
  FakeCoordinator,
  FakeEvents,
  FakeMapSource,
  resource,
} from './testing.fakes';

async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A leader event of `orders` as the coordinator publishes it. */
function leader(version: number, partition: number, node: string | null, epoch: number) {
  return {
    eventId: `e${version}.${partition}`,
    at: new Date().toISOString(),
    version,
    resource: 'orders',
    partition,
    leader: node,
    epoch,
    isr: node ? [node] : [],
    replicas: ['n1', 'n2', 'n9'],
  };
}

function announced(version: number, changes: number, full = false) {
  return {
    eventId: `m${version}`,
    at: new Date().toISOString(),
    version,
    changes,
    full,
    reason: full ? 'RESOURCE_CREATED' : 'PARTITIONS_CHANGED',
  };
}

describe(PartitionMapClient.name, () => {
  let source: FakeMapSource;
  let events: FakeEvents;
  let sut: PartitionMapClient;

  beforeEach(async () => {
    jest.useFakeTimers();
    source = new FakeMapSource({ version: 3, resources: [resource('orders', 8, ['n1', 'n2'])] });
    events = new FakeEvents();
    sut = new PartitionMapClient({ source, events, refreshIntervalMs: 0, refetchJitterMs: 50 });
    await sut.start();
  });

  afterEach(() => {
    sut.close();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('routes a key with the API partitioner to its partition and leader', () => {
    const p = partitionForKey('user-42', 8);
    expect(sut.route('orders', 'user-42')).toEqual({
      resource: 'orders',
      partition: p,
      leader: p % 2 === 0 ? 'n1' : 'n2',
      epoch: 1,
      replicas: ['n1', 'n2'],
      isr: ['n1', 'n2'],
    });
  });

  it('refuses an unknown resource or partition with NOT_FOUND', () => {
    expect(() => sut.route('users', 'k')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => sut.partition('orders', 8)).toThrow(TesseraError);
  });

  /** A leader event's entry, as `events.map` carries it inline (no envelope). */
  function entryOf(e: ReturnType<typeof leader>) {
    const { eventId: _id, at: _at, version: _v, ...entry } = e;
    return entry;
  }

  it('holds a version from its events.map alone when the entries come inline', async () => {
    events.emit('map', {
      ...announced(4, 2),
      partitions: [leader(4, 1, 'n9', 2), leader(4, 2, null, 2)].map(entryOf),
    });
    expect(sut.version).toBe(4);
    expect(sut.partition('orders', 1)).toMatchObject({
      leader: 'n9',
      epoch: 2,
      isr: ['n9'],
      replicas: ['n1', 'n2', 'n9'],
    });
    expect(sut.partition('orders', 2)).toMatchObject({ leader: null, epoch: 2 });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(source.calls).toBe(1);
  });

  it('holds a large version from its events.map.changes chunks and routes by each chunk at once', async () => {
    const chunk = (i: number, entries: ReturnType<typeof leader>[]) => ({
      eventId: `c4.${i}`,
      at: new Date().toISOString(),
      version: 4,
      chunk: i,
      chunks: 2,
      partitions: entries.map(entryOf),
    });
    events.emit('mapChanges', chunk(1, [leader(4, 3, 'n9', 2)]));
    expect(sut.partition('orders', 3)).toMatchObject({ leader: 'n9', epoch: 2 });
    events.emit('mapChanges', chunk(0, [leader(4, 1, 'n9', 2), leader(4, 2, 'n9', 2)]));
    events.emit('mapChanges', chunk(1, [leader(4, 3, 'n9', 2)])); // a duplicate adds nothing
    expect(sut.version).toBe(3);
    events.emit('map', { ...announced(4, 3), chunks: 2 });
    expect(sut.version).toBe(4);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(source.calls).toBe(1);
  });

  it('refetches when a chunk of an announced version is missing, or an inline entry is malformed', async () => {
    source.map = { version: 5, resources: [resource('orders', 8, ['n3'], 4)] };
    events.emit('mapChanges', {
      ...announced(4, 0),
      chunk: 0,
      chunks: 2,
      partitions: [entryOf(leader(4, 1, 'n9', 2))],
    });
    events.emit('map', { ...announced(4, 2), chunks: 2 });
    expect(sut.version).toBe(3);
    await jest.advanceTimersByTimeAsync(60); // the certain gap: refetch after the jitter only
    expect(source.calls).toBe(2);
    expect(sut.version).toBe(5);

    source.map = { version: 6, resources: [resource('orders', 8, ['n3'], 5)] };
    events.emit('map', {
      ...announced(6, 1),
      partitions: [{ ...entryOf(leader(6, 1, 'n9', 9)), isr: 'n9' }],
    });
    expect(sut.partition('orders', 1).epoch).toBe(4); // nothing of the malformed version applied
    await jest.advanceTimersByTimeAsync(60);
    expect(source.calls).toBe(3);
    expect(sut.partition('orders', 1)).toMatchObject({ leader: 'n3', epoch: 5 });
  });

  it('advances version by version from leader events alone, without fetching', async () => {
    events.emit('partitionLeader', leader(4, 1, 'n9', 2));
    events.emit('partitionLeader', leader(4, 2, null, 2));
    events.emit('map', announced(4, 2));
    events.emit('partitionLeader', leader(5, 1, 'n2', 3));
    events.emit('map', announced(5, 1));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(sut.version).toBe(5);
    expect(sut.partition('orders', 1)).toEqual({
      resource: 'orders',
      partition: 1,
      leader: 'n2',
      epoch: 3,
      replicas: ['n1', 'n2', 'n9'],
      isr: ['n2'],
    });
    expect(sut.partition('orders', 2)).toMatchObject({ leader: null, epoch: 2 });
    expect(sut.map.version).toBe(5);
    expect(sut.map.resources[0].partitions[1]).toEqual({
      partition: 1,
      replicas: ['n1', 'n2', 'n9'],
      leader: 'n2',
      epoch: 3,
      isr: ['n2'],
    });
    expect(source.calls).toBe(1);
  });

  it('routes by a leader event at once, before its version is complete', () => {
    events.emit('partitionLeader', leader(4, 1, 'n9', 2));
    expect(sut.partition('orders', 1)).toMatchObject({ leader: 'n9', epoch: 2, isr: ['n9'] });
    expect(sut.version).toBe(3);
  });

  it('buffers a later version and applies it in order once the missing one arrives', async () => {
    events.emit('partitionLeader', leader(5, 1, 'n2', 3));
    events.emit('map', announced(5, 1));
    expect(sut.version).toBe(3);
    events.emit('partitionLeader', leader(4, 1, 'n9', 2)); // older than what routing has: kept out
    expect(sut.partition('orders', 1).leader).toBe('n2');
    events.emit('map', announced(4, 1));
    expect(sut.version).toBe(5);
    expect(sut.partition('orders', 1)).toMatchObject({ leader: 'n2', epoch: 3 });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(source.calls).toBe(1);
  });

  it('ignores duplicates and events of versions it holds already', async () => {
    const e = leader(4, 1, 'n9', 2);
    events.emit('partitionLeader', e);
    events.emit('partitionLeader', e);
    events.emit('map', announced(4, 1));
    events.emit('map', announced(4, 1));
    events.emit('partitionLeader', leader(3, 1, 'n1', 9));
    events.emit('partitionLeader', leader(2, 0, 'n7', 9));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(sut.version).toBe(4);
    expect(sut.partition('orders', 1).leader).toBe('n9');
    expect(sut.partition('orders', 0).leader).toBe('n1');
    expect(source.calls).toBe(1);
  });

  it('refetches after a random jitter when leader events of a version are missing', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    source.map = { version: 4, resources: [resource('orders', 8, ['n5'], 2)] };
    events.emit('partitionLeader', leader(4, 1, 'n5', 2));
    events.emit('map', announced(4, 2)); // one of two never came
    await jest.advanceTimersByTimeAsync(24);
    expect(source.calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(source.calls).toBe(2);
    expect(sut.version).toBe(4);
    expect(sut.partition('orders', 0).leader).toBe('n5');
  });

  it('refetches when a resource is created or deleted, once for a burst of gaps', async () => {
    source.map = {
      version: 6,
      resources: [resource('orders', 8, ['n1', 'n2']), resource('users', 2, ['n3'])],
    };
    events.emit('map', announced(4, 0, true));
    events.emit('map', announced(5, 0, true));
    events.emit('map', announced(6, 0, true));
    await jest.advanceTimersByTimeAsync(50);
    expect(source.calls).toBe(2);
    expect(sut.version).toBe(6);
    expect(sut.route('users', 'k').leader).toBe('n3');
  });

  it('refetches when a leader event names a resource it does not know', async () => {
    source.map = {
      version: 4,
      resources: [resource('orders', 8, ['n1', 'n2']), resource('users', 2, ['n3'], 1)],
    };
    events.emit('partitionLeader', { ...leader(4, 1, 'n3', 1), resource: 'users' });
    await jest.advanceTimersByTimeAsync(50);
    expect(source.calls).toBe(2);
    expect(sut.partition('users', 1).leader).toBe('n3');
  });

  it('waits the grace for a late events.map before refetching', async () => {
    sut.close();
    sut = new PartitionMapClient({
      source,
      events,
      refreshIntervalMs: 0,
      refetchJitterMs: 0,
      gapGraceMs: 100,
    });
    await sut.start();
    events.emit('partitionLeader', leader(4, 1, 'n9', 2));
    await jest.advanceTimersByTimeAsync(99);
    events.emit('map', announced(4, 1)); // late, but in time
    await jest.advanceTimersByTimeAsync(1_000);
    expect(source.calls).toBe(2); // the two starts
    expect(sut.version).toBe(4);
    source.map = { version: 5, resources: [resource('orders', 8, ['n1'], 3)] };
    events.emit('partitionLeader', leader(5, 1, 'n1', 3)); // its events.map never comes
    await jest.advanceTimersByTimeAsync(99);
    expect(source.calls).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(source.calls).toBe(3);
    expect(sut.version).toBe(5);
  });

  it('treats an events.map without changes (an older coordinator) as a refetch', async () => {
    source.map = { version: 4, resources: [resource('orders', 8, ['n3'], 2)] };
    events.emit('map', { version: 4 });
    await jest.advanceTimersByTimeAsync(50);
    expect(source.calls).toBe(2);
    expect(sut.partition('orders', 0).leader).toBe('n3');
  });

  it('never lets a fetched map take a partition back to an older leader', async () => {
    // A fetch started before the change answers after it was applied from its event.
    source.map = { version: 4, resources: [resource('orders', 8, ['n1', 'n2'], 1)] };
    const fetch = sut.refresh();
    events.emit('partitionLeader', leader(5, 1, 'n9', 2));
    await fetch;
    expect(sut.version).toBe(4);
    expect(sut.partition('orders', 1)).toMatchObject({ leader: 'n9', epoch: 2 });
    events.emit('map', announced(5, 1));
    expect(sut.version).toBe(5);
  });

  it('keeps the newer map over an older fetch result, and shares concurrent fetches', async () => {
    source.map = { version: 9, resources: [resource('orders', 8, ['n1'])] };
    await Promise.all([sut.refresh(), sut.refresh(), sut.refresh()]);
    expect(source.calls).toBe(2);
    source.map = { version: 8, resources: [resource('orders', 8, ['n5'])] };
    await sut.refresh();
    expect(sut.version).toBe(9);
    expect(sut.partition('orders', 0).leader).toBe('n1');
  });

  it('fetches again at once when an answer misses an announced version, then drops it', async () => {
    // A version announced before the fetch started must be in its answer; this one never is.
    events.emit('map', announced(1_000, 0, true));
    await sut.refresh();
    expect(source.calls).toBe(4); // start + 3 tries
    await jest.advanceTimersByTimeAsync(5_000);
    expect(source.calls).toBe(4);
    expect(sut.version).toBe(3);
  });

  it('retries a failed gap refetch', async () => {
    source.failWith = new Error('coordinator restarting');
    events.emit('map', announced(4, 0, true));
    await jest.advanceTimersByTimeAsync(50);
    expect(source.calls).toBe(2);
    source.failWith = null;
    source.map = { version: 4, resources: [resource('orders', 8, ['n4'], 2)] };
    await jest.advanceTimersByTimeAsync(1_050);
    expect(source.calls).toBe(3);
    expect(sut.version).toBe(4);
  });

  it('refreshes on the safety-net timer', async () => {
    sut.close();
    sut = new PartitionMapClient({ source, events, refreshIntervalMs: 1_000 });
    await sut.start();
    await jest.advanceTimersByTimeAsync(1_100);
    expect(source.calls).toBe(3);
    await jest.advanceTimersByTimeAsync(1_100);
    expect(source.calls).toBe(4);
  });

  it('ignores malformed events', async () => {
    for (const bad of [null, 'x', { version: 'ten' }, { version: 1.5 }, { version: -4 }])
      events.emit('map', bad);
    events.emit('partitionLeader', { ...leader(10, 0, 'n7', 9), partition: 'zero' });
    events.emit('partitionLeader', { ...leader(10, 0, 'n7', 9), isr: 'n7' });
    events.emit('partitionLeader', { ...leader(10, 0, 'n7', 9), replicas: [1] });
    await settled();
    expect(sut.partition('orders', 0).leader).toBe('n1');
  });

  it('fails to start when the map cannot be fetched, and stops following events on close', async () => {
    const failing = new FakeMapSource({ version: 1, resources: [] });
    failing.failWith = new TesseraError('UNAVAILABLE', 'down');
    const other = new PartitionMapClient({
      source: failing,
      events: new FakeEvents(),
      refreshIntervalMs: 0,
    });
    await expect(other.start()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    other.close();
    sut.close();
    expect(events.unsubscribed).toBe(true);
  });
});

describe(`${PartitionMapClient.name} with a coordinator`, () => {
  it('applies events that arrive while the first fetch is in flight', async () => {
    const coordinator = new FakeCoordinator({
      version: 1,
      resources: [resource('orders', 4, ['n1', 'n2'])],
    });
    const source = new ControlledMapSource(coordinator);
    const events = new FakeEvents();
    const sut = new PartitionMapClient({ source, events, refreshIntervalMs: 0 });
    const started = sut.start();
    const published = coordinator.change([
      { resource: 'orders', partition: 2, leader: 'n2', epoch: 2, isr: ['n2'], replicas: ['n2'] },
    ]);
    source.answer(0, 0); // the map as it was when asked: version 1
    for (const e of published) events.emit(e.kind, e.payload);
    await started;
    expect(sut.version).toBe(2);
    expect(sut.map).toEqual<MapViewV1>(coordinator.current);
    sut.close();
  });
});
