import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import { type Subscription } from 'nats';
import { PartitionMapClient, natsMapEvents, parseMapView } from '@tessera/client';
import {
  type MapViewV1,
  type PartitionStateV1,
  type PartitionsChangedEventV1,
  fullSubject,
} from '@tessera/contracts';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import { dataSourceOptions } from '@tessera/persistence';
import { type BaseConfig, MetricsService } from '@tessera/service-kit';
import { createTestEnv, type TestEnv, waitFor } from '@tessera/testing';
import { nextMapVersion } from './map-version';
import { MapService } from './map.service';

/** Counts the statements a DataSource sends (TypeORM's query log). */
class QueryCounter implements TypeOrmLogger {
  readonly queries: string[] = [];
  logQuery(query: string): void {
    this.queries.push(query);
  }
  // Only queries are counted; the rest of TypeORM's log is not needed here.
  logQueryError = (): void => undefined;
  logQuerySlow = (): void => undefined;
  logSchemaBuild = (): void => undefined;
  logMigration = (): void => undefined;
  log = (): void => undefined;
  mapReads(): number {
    return this.queries.filter((q) => q.includes('FROM coordinator.partition_map p')).length;
  }
}

/** One coordinator instance's map service, with its own pool and outbox relay. */
interface Instance {
  db: DataSource;
  queries: QueryCounter;
  relay: OutboxRelay;
  sut: MapService;
}

interface Received {
  subject: string;
  payload: Record<string, unknown>;
}

describe(MapService.name, () => {
  let t: TestEnv;
  let network: NetworkManager;
  let a: Instance;
  let b: Instance;
  let events: Subscription;
  const received: Received[] = [];

  async function instance(name: string): Promise<Instance> {
    const queries = new QueryCounter();
    const db = new DataSource({
      ...dataSourceOptions({ url: t.databaseUrl, applicationName: name }),
      logging: ['query'],
      logger: queries,
    });
    await db.initialize();
    const relay = new OutboxRelay(db, 'coordinator', network, undefined, { pollMs: 100 });
    relay.start();
    const config = { service: 'coordinator', cluster: t.cluster } as BaseConfig;
    const sut = new MapService(
      db,
      relay,
      network,
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      new MetricsService(config),
    );
    return { db, queries, relay, sut };
  }

  /** Consensus's committed change, as `events.internal.partitions.changed` carries it. */
  function changed(...changes: PartitionStateV1[]): PartitionsChangedEventV1 {
    return { eventId: randomUUID(), at: new Date().toISOString(), reason: 'ELECTION', changes };
  }

  let partitionEpoch = 10;
  function elect(partition: number, leader: string, leaderEpoch: number): PartitionStateV1 {
    return {
      resource: 'orders',
      partition,
      replicas: [leader, 'kv-9'],
      leader,
      leaderEpoch: String(leaderEpoch),
      isr: [leader],
      partitionEpoch: String(++partitionEpoch),
    };
  }

  beforeAll(async () => {
    t = await createTestEnv('mapservice');
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'map-service-test');
    await network.connect();
    await network.ensureEventStream();
    const decoder = new TextDecoder();
    events = network.connection.subscribe(fullSubject(t.cluster, 'events.>'), {
      callback: (err, msg) => {
        if (!err)
          received.push({
            subject: msg.subject,
            payload: JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>,
          });
      },
    });
    a = await instance('coordinator-a');
    b = await instance('coordinator-b');
    await a.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO coordinator.resource (name, partitions, replication_factor, spread_by, require_tags, warnings)
         VALUES ('orders', 4, 2, 'none', '{}', '{}'), ('users', 2, 2, 'none', '{}', '{}')`,
      );
      await m.query(
        `INSERT INTO coordinator.partition_map (resource, partition, target, replicas, leader, leader_epoch, isr, partition_epoch)
         SELECT r, p, ARRAY['kv-1','kv-2'], ARRAY['kv-1','kv-2'], 'kv-1', 1, ARRAY['kv-1','kv-2'], 1
           FROM (VALUES ('orders', 4), ('users', 2)) AS v(r, n), generate_series(0, v.n - 1) AS p`,
      );
      await nextMapVersion(m);
    });
  });

  afterAll(async () => {
    events?.unsubscribe();
    for (const i of [a, b]) {
      await i?.relay.stop();
      await i?.db.destroy();
    }
    await network?.close();
    await t?.destroy();
  });

  it('answers a burst of reads of one version with one map query and one serialisation', async () => {
    a.queries.queries.length = 0;
    const answers = await Promise.all(Array.from({ length: 50 }, () => a.sut.answer()));
    expect(a.queries.mapReads()).toBe(1);
    expect(new Set(answers.map((x) => x.json)).size).toBe(1);
    expect(new Set(answers.map((x) => x.view)).size).toBe(1);
    const view = JSON.parse(answers[0].json) as MapViewV1;
    expect(view).toEqual(answers[0].view);
    expect(view.resources.map((r) => [r.name, r.partitions.length])).toEqual([
      ['orders', 4],
      ['users', 2],
    ]);
    await a.sut.answer();
    expect(a.queries.mapReads()).toBe(1);
  });

  it('caches each resource filter apart, an unknown one included', async () => {
    const orders = await a.sut.view('orders');
    const none = await a.sut.view('nope');
    expect(orders.resources.map((r) => r.name)).toEqual(['orders']);
    expect(none).toEqual({ version: orders.version, resources: [] });
    const reads = a.queries.mapReads();
    await Promise.all([a.sut.view('orders'), a.sut.view('nope'), a.sut.view()]);
    expect(a.queries.mapReads()).toBe(reads);
  });

  it('never serves a cached version once another instance committed a newer one', async () => {
    const before = await a.sut.view();
    await b.sut.applyPartitionChanges(changed(elect(2, 'kv-2', 2)));
    const after = await a.sut.view();
    expect(after.version).toBe(before.version + 1);
    expect(after.resources[0].partitions[2]).toEqual({
      partition: 2,
      replicas: ['kv-2', 'kv-9'],
      leader: 'kv-2',
      epoch: 2,
      isr: ['kv-2'],
    });
    expect(await a.sut.view('orders')).toMatchObject({ version: after.version });
  });

  it('announces a version as leader deltas with replicas, then events.map counting and carrying them', async () => {
    const version = (await a.sut.view()).version + 1;
    await a.sut.applyPartitionChanges(changed(elect(0, 'kv-2', 3), elect(1, 'kv-2', 3)));
    const ofVersion = () => received.filter((r) => r.payload['version'] === version);
    await waitFor('the version’s three events', () => ofVersion().length >= 3);
    const [first, second, map] = ofVersion();
    for (const [event, partition] of [
      [first, 0],
      [second, 1],
    ] as const) {
      expect(event.subject).toBe(fullSubject(t.cluster, 'events.partition.leader'));
      expect(event.payload).toMatchObject({
        resource: 'orders',
        partition,
        leader: 'kv-2',
        epoch: 3,
        isr: ['kv-2'],
        replicas: ['kv-2', 'kv-9'],
      });
    }
    expect(map.subject).toBe(fullSubject(t.cluster, 'events.map'));
    expect(map.payload).toMatchObject({ changes: 2, full: false, reason: 'PARTITIONS_CHANGED' });
    // The same entries inline, so a routing client takes the version from this one message.
    const entry = ({ eventId: _id, at: _at, version: _v, ...rest }: Record<string, unknown>) =>
      rest;
    expect(map.payload['partitions']).toEqual([entry(first.payload), entry(second.payload)]);
    expect(map.payload['chunks']).toBeUndefined();
  });

  it('lets a client follow changes from the events alone, equal to a fresh read', async () => {
    let fetches = 0;
    const client = new PartitionMapClient({
      source: {
        fetchMap: async () => {
          fetches++;
          return parseMapView(JSON.parse((await a.sut.answer()).json));
        },
      },
      events: natsMapEvents({ connection: network.connection, cluster: t.cluster }),
      refreshIntervalMs: 0,
    });
    await client.start();
    try {
      await a.sut.applyPartitionChanges(changed(elect(3, 'kv-2', 4)));
      await b.sut.applyPartitionChanges(changed(elect(3, 'kv-1', 5), elect(0, 'kv-1', 6)));
      const latest = await b.sut.view();
      await waitFor(
        'the client to hold the latest version',
        () => client.version === latest.version,
      );
      expect(client.map).toEqual(latest);
      expect(fetches).toBe(1);
    } finally {
      client.close();
    }
  });

  it('projects a burst of events in one version: the newest change per partition, each event once', async () => {
    const before = await a.sut.view();
    const first = changed(elect(1, 'kv-1', 7), elect(2, 'kv-1', 7));
    const second = changed(elect(1, 'kv-2', 8), elect(3, 'kv-2', 8));
    // Reversed on purpose: the partition epoch decides, not the order of the events.
    await a.sut.applyPartitionChanges(second, first, first);
    const after = await a.sut.view();
    expect(after.version).toBe(before.version + 1);
    expect(
      after.resources[0].partitions.slice(1).map((p) => [p.partition, p.leader, p.epoch]),
    ).toEqual([
      [1, 'kv-2', 8],
      [2, 'kv-1', 7],
      [3, 'kv-2', 8],
    ]);
    const ofVersion = () => received.filter((r) => r.payload['version'] === after.version);
    await waitFor('the version’s four events', () => ofVersion().length >= 4);
    const [map, ...deltas] = ofVersion().reverse();
    expect(deltas.map((r) => r.payload['partition']).sort()).toEqual([1, 2, 3]);
    expect(map.payload).toMatchObject({ changes: 3 });

    // Redelivered (in a burst with nothing new): already applied, so no new version.
    await b.sut.applyPartitionChanges(first, second, { eventId: 'not an event' });
    expect((await b.sut.view()).version).toBe(after.version);
  });
});
