import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import {
  type MapChangeV1,
  type MapResourceV1,
  type MapViewV1,
  type PartitionLeaderEventV1,
  type PartitionStateV1,
  type PartitionsChangedEventV1,
  Subjects,
  mapVersionMessages,
} from '@tessera/contracts';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import {
  appendBatchToOutbox,
  claimInbox,
  type OutboxBatch,
  type OutboxEvent,
} from '@tessera/persistence';
import { MetricsService, OUTBOX_RELAY } from '@tessera/service-kit';
import { currentMapVersion, nextMapVersion } from './map-version';
import { type CachedMapView, MapViewCache } from './map-view.cache';

interface MapRow {
  resource: string;
  partition: number;
  target: string[];
  replicas: string[];
  leader: string | null;
  leader_epoch: string;
  isr: string[];
  partition_epoch: string;
  partitions: number;
}

/** Most consensus events (≤ 1,000 changes each) projected in one transaction. */
const PROJECTION_BATCH_EVENTS = 4;

function isPartitionsChanged(value: unknown): value is PartitionsChangedEventV1 {
  const v = value as Partial<PartitionsChangedEventV1> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.eventId === 'string' && Array.isArray(v.changes)
  );
}

/**
 * The partition map: target replicas (ours) joined with leader, epoch and ISR as consensus
 * committed them (a projection fed by `events.internal.partitions.changed`, applied only when
 * newer by partition epoch). Each applied batch bumps the map version and is announced publicly
 * as deltas: one `events.partition.leader` per changed partition, then `events.map` counting
 * them and carrying the same entries (or, past MAP_EVENT_MAX_ENTRIES, `events.map.changes`
 * chunks before it) for routing clients.
 */
@Injectable()
export class MapService implements OnApplicationBootstrap {
  private readonly cache: MapViewCache;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
    private readonly metrics: MetricsService,
  ) {
    this.log.setContext(MapService.name);
    const lookups = this.metrics.counter(
      'tessera_map_view_lookups_total',
      'Partition map reads (GET /map, dashboard), by whether the cached version answered',
      ['result'],
    );
    this.cache = new MapViewCache({
      readVersion: () => currentMapVersion(this.db),
      build: (resource) => this.build(resource),
      onLookup: (result) => lookups.inc({ result }),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.metrics.gauge(
      'tessera_partitions',
      'Partitions by state (led, under-replicated, offline)',
      ['state'],
      async (g) => {
        const [row]: { led: number; under: number; offline: number }[] = await this.db.query(
          `SELECT count(*) FILTER (WHERE leader IS NOT NULL)::int AS led,
                count(*) FILTER (WHERE cardinality(isr) < cardinality(replicas))::int AS under,
                count(*) FILTER (WHERE leader IS NULL)::int AS offline
           FROM coordinator.partition_map`,
        );
        g.set({ state: 'led' }, row?.led ?? 0);
        g.set({ state: 'under_replicated' }, row?.under ?? 0);
        g.set({ state: 'offline' }, row?.offline ?? 0);
      },
    );
    this.metrics.gauge(
      'tessera_operations',
      'Coordinator operations by state',
      ['state'],
      async (g) => {
        const rows: { state: string; n: number }[] = await this.db.query(
          `SELECT state, count(*)::int AS n FROM coordinator.operation GROUP BY state`,
        );
        g.reset();
        for (const r of rows) g.set({ state: r.state }, r.n);
      },
    );
    this.metrics.gauge('tessera_map_version', 'Current partition map version', [], async (g) => {
      g.set(await currentMapVersion(this.db));
    });
    // A failover arrives as a burst of events (1,000 changes each): whatever queued while one
    // projection ran goes into the next one, a single transaction and map version.
    await this.network.consumeEventBatches(
      'coordinator-partitions',
      Subjects.events.partitionsChanged,
      PROJECTION_BATCH_EVENTS,
      (events) => this.applyPartitionChanges(...events.map((e) => e.payload)),
    );
  }

  /** The current map (or one resource's slice); shared and frozen, so never mutate it. */
  async view(resource?: string): Promise<MapViewV1> {
    return (await this.cache.get(resource)).view;
  }

  /** The current map as `GET /map` sends it: view and JSON made once per version and filter. */
  answer(resource?: string): Promise<CachedMapView> {
    return this.cache.get(resource);
  }

  /** Reads the map in one snapshot (version and rows agree). */
  private async build(resource: string | undefined): Promise<MapViewV1> {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const version = await currentMapVersion(m);
      const rows: MapRow[] = await m.query(
        `SELECT p.*, r.partitions FROM coordinator.partition_map p
           JOIN coordinator.resource r ON r.name = p.resource
          WHERE ($1::text IS NULL OR p.resource = $1)
          ORDER BY p.resource, p.partition`,
        [resource ?? null],
      );
      const byResource = new Map<string, MapResourceV1>();
      for (const row of rows) {
        let entry = byResource.get(row.resource);
        if (!entry) {
          entry = { name: row.resource, partitionCount: row.partitions, partitions: [] };
          byResource.set(row.resource, entry);
        }
        entry.partitions.push({
          partition: row.partition,
          replicas: row.replicas,
          leader: row.leader,
          epoch: Number(row.leader_epoch),
          isr: row.isr,
        });
      }
      return { version, resources: [...byResource.values()] };
    });
  }

  /** The coordinator's intended replica lists of a resource, by partition (preferred leader first). */
  async targets(resource: string): Promise<string[][]> {
    const rows: { target: string[] }[] = await this.db.query(
      `SELECT target FROM coordinator.partition_map WHERE resource = $1 ORDER BY partition`,
      [resource],
    );
    return rows.map((r) => r.target);
  }

  /**
   * Applies consensus's committed changes (one or more `events.internal.partitions.changed`) in
   * one transaction: idempotent (inbox, per event) and order-safe (partition epoch).
   */
  async applyPartitionChanges(...payloads: unknown[]): Promise<void> {
    const valid = payloads.filter((payload): payload is PartitionsChangedEventV1 => {
      if (isPartitionsChanged(payload)) return true;
      this.log.warn({ payload: typeof payload }, 'ignoring a malformed partitions-changed event');
      return false;
    });
    if (valid.every((p) => p.changes.length === 0)) return;
    const committed = await this.db.transaction(async (m): Promise<OutboxBatch | null> => {
      // The newest change per partition among the events this instance has not applied yet.
      const newest = new Map<string, PartitionStateV1>();
      for (const payload of valid) {
        if (payload.changes.length === 0 || !(await claimInbox(m, 'coordinator', payload.eventId)))
          continue;
        for (const c of payload.changes) {
          const key = `${c.resource}/${c.partition}`;
          const seen = newest.get(key);
          if (!seen || BigInt(c.partitionEpoch) > BigInt(seen.partitionEpoch)) newest.set(key, c);
        }
      }
      if (newest.size === 0) return null;
      const changes = [...newest.values()];
      const [updated]: [MapRow[], number] = await m.query(
        `UPDATE coordinator.partition_map AS p
            SET leader = u.leader, leader_epoch = u.leader_epoch, isr = u.isr::text[],
                replicas = u.replicas::text[], partition_epoch = u.partition_epoch
           FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[])
                AS u(resource, partition, leader, leader_epoch, isr, partition_epoch, replicas)
          WHERE p.resource = u.resource AND p.partition = u.partition
            AND p.partition_epoch < u.partition_epoch
        RETURNING p.*`,
        [
          changes.map((c) => c.resource),
          changes.map((c) => c.partition),
          changes.map((c) => c.leader),
          changes.map((c) => c.leaderEpoch),
          changes.map((c) => `{${c.isr.join(',')}}`),
          changes.map((c) => c.partitionEpoch),
          changes.map((c) => `{${c.replicas.join(',')}}`),
        ],
      );
      if (updated.length === 0) return null;
      const version = await nextMapVersion(m);
      const entries: MapChangeV1[] = updated.map((row) => ({
        resource: row.resource,
        partition: row.partition,
        leader: row.leader,
        epoch: Number(row.leader_epoch),
        isr: row.isr,
        replicas: row.replicas,
      }));
      const events: OutboxEvent[] = entries.map((entry) => ({
        subject: Subjects.events.partitionLeader,
        payload: { version, ...entry } satisfies Omit<PartitionLeaderEventV1, 'eventId' | 'at'>,
      }));
      // Then the same entries for routing clients, whole versions in one message where they fit
      // (a message per version, not one per partition, to each of their connections); the
      // announcement last, so a client that has it and its chunks holds the version.
      const { chunks, announce } = mapVersionMessages(version, entries);
      for (const chunk of chunks)
        events.push({ subject: Subjects.events.mapChanges, payload: { ...chunk } });
      events.push({ subject: Subjects.events.map, payload: { ...announce } });
      const stored = await appendBatchToOutbox(m, 'coordinator', events);
      return stored;
    });
    if (committed) {
      // Straight to NATS after the commit: routing clients wait for these (the relay is the net).
      void this.relay.publishCommitted(committed);
      this.log.debug(
        {
          applied: committed.events.length - 1,
          events: valid.length,
          reasons: [...new Set(valid.map((p) => p.reason))],
        },
        'map updated from consensus',
      );
    }
  }
}
