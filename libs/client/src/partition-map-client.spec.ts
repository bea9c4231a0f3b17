import 'reflect-metadata';
import { TesseraError, partitionForKey } from '@tessera/contracts';
import { PartitionMapClient } from './partition-map-client';
import { FakeEvents, FakeMapSource, resource } from './testing.fakes';

async function settled(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe(PartitionMapClient.name, () => {
  let source: FakeMapSource;
  let events: FakeEvents;
  let sut: PartitionMapClient;

  beforeEach(async () => {
    source = new FakeMapSource({ version: 3, resources: [resource('orders', 8, ['n1', 'n2'])] });
    events = new FakeEvents();
    sut = new PartitionMapClient({ source, events, refreshIntervalMs: 0 });
    await sut.start();
  });

  afterEach(() => sut.close());

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

  it('refetches when an event carries a newer version, and ignores older ones', async () => {
    events.emit('map', { version: 3 });
    events.emit('map', { version: 2 });
    await settled();
    expect(source.calls).toBe(1);
    source.map = { version: 4, resources: [resource('orders', 8, ['n3'])] };
    events.emit('map', { version: 4 });
    await sut.refresh();
    expect(sut.version).toBe(4);
    expect(sut.partition('orders', 0).leader).toBe('n3');
  });

  it('follows a leader event at once, before the refetch lands', async () => {
    source.failWith = new Error('coordinator down');
    events.emit('partitionLeader', {
      version: 4,
      resource: 'orders',
      partition: 1,
      leader: 'n9',
      epoch: 2,
      isr: ['n9'],
    });
    expect(sut.partition('orders', 1)).toMatchObject({ leader: 'n9', epoch: 2, isr: ['n9'] });
    // An older epoch for the same partition does not win.
    events.emit('partitionLeader', {
      version: 5,
      resource: 'orders',
      partition: 1,
      leader: 'n1',
      epoch: 1,
      isr: ['n1'],
    });
    expect(sut.partition('orders', 1).leader).toBe('n9');
    await settled();
    expect(sut.version).toBe(3);
  });

  it('detects a gap (a missed version) and catches up to the newest announced', async () => {
    source.map = { version: 5, resources: [resource('orders', 8, ['n1'])] };
    events.emit('partitionLeader', {
      version: 7,
      resource: 'orders',
      partition: 0,
      leader: 'n2',
      epoch: 5,
      isr: ['n2'],
    });
    let fetched = 0;
    const fetchMap = source.fetchMap.bind(source);
    source.fetchMap = async () => {
      // The second fetch sees the version the event announced.
      if (++fetched === 2)
        source.map = { version: 7, resources: [resource('orders', 8, ['n2'], 5)] };
      return fetchMap();
    };
    await sut.refresh();
    expect(sut.version).toBe(7);
    expect(sut.route('orders', 'anything').leader).toBe('n2');
  });

  it('shares one fetch between concurrent refreshes and keeps a newer map over an older result', async () => {
    source.map = { version: 9, resources: [resource('orders', 8, ['n1'])] };
    await Promise.all([sut.refresh(), sut.refresh(), sut.refresh()]);
    expect(source.calls).toBe(2);
    source.map = { version: 8, resources: [resource('orders', 8, ['n5'])] };
    await sut.refresh();
    expect(sut.version).toBe(9);
    expect(sut.partition('orders', 0).leader).toBe('n1');
  });

  it('ignores malformed events', async () => {
    for (const bad of [null, 'x', { version: 'ten' }, { version: 1.5 }]) events.emit('map', bad);
    events.emit('partitionLeader', {
      version: 10,
      resource: 'orders',
      partition: 'zero',
      leader: 'n7',
      epoch: 9,
    });
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
