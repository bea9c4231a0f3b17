import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import {
  type CreateResourceBodyV1,
  type MapEventV1,
  type RebalancePlanV1,
  type ResourceDeletedEventV1,
  type ResourceDetailV1,
  type ResourceViewV1,
  type SpreadBy,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import { appendToOutbox } from '@tessera/persistence';
import { OUTBOX_RELAY } from '@tessera/service-kit';
import { MapService } from '../map/map.service';
import { nextMapVersion } from '../map/map-version';
import { OperationLog } from '../operation/operation-log.service';
import { ControllerLease } from '../controller/controller-lease.service';
import { MigrationDriver } from '../migration/migration-driver.service';
import { MigrationPlanner, planOrThrow } from '../migration/migration-planner.service';

interface ResourceRow {
  name: string;
  partitions: number;
  replication_factor: number;
  spread_by: SpreadBy;
  require_tags: string[];
  state: 'CREATING' | 'ACTIVE' | 'DELETING';
  warnings: string[];
  created_at: Date;
}


const RECONCILE_MS = 2_000;

function toView(row: ResourceRow): ResourceViewV1 {
  return {
    name: row.name,
    partitions: row.partitions,
    replicationFactor: row.replication_factor,
    placement: { spreadBy: row.spread_by, requireTags: row.require_tags },
    createdAt: new Date(row.created_at).toISOString(),
    warnings: row.warnings,
  };
}


/**
 * PartitionCoordinator: resources and their target assignments. Places replicas with the
 * planner, persists the target with the map version in one transaction, then has consensus
 * grant the first leaders; a reconciler finishes creations and deletions that were interrupted.
 */
@Injectable()
export class PartitionCoordinator implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private reconciling = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly network: NetworkManager,
    private readonly maps: MapService,
    private readonly operations: OperationLog,
    private readonly controller: ControllerLease,
    private readonly planner: MigrationPlanner,
    private readonly migrations: MigrationDriver,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext(PartitionCoordinator.name);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async list(): Promise<ResourceViewV1[]> {
    const rows: ResourceRow[] = await this.db.query(
      `SELECT * FROM coordinator.resource WHERE state <> 'DELETING' ORDER BY name`,
    );
    return rows.map(toView);
  }

  async describe(name: string): Promise<ResourceDetailV1> {
    const row = await this.find(name);
    const map = await this.maps.view(name);
    const slice = map.resources[0] ?? { name, partitionCount: row.partitions, partitions: [] };
    return {
      ...toView(row),
      state: row.state,
      partitionsLed: slice.partitions.filter((p) => p.leader !== null).length,
      underReplicated: slice.partitions.filter((p) => p.isr.length < p.replicas.length).length,
      offline: slice.partitions.filter((p) => p.leader === null).length,
      map: slice,
    };
  }

  async create(body: CreateResourceBodyV1): Promise<ResourceViewV1> {
    const spreadBy = body.placement?.spreadBy ?? 'zone';
    const requireTags = body.placement?.requireTags ?? [];
    const plan = planOrThrow({
      nodes: await this.planner.nodes(),
      resources: [{ name: body.name, partitions: body.partitions, replicationFactor: body.replicationFactor, placement: { spreadBy, requireTags } }],
    });
    const replicas = plan.assignment[body.name];
    const operationId = randomUUID();
    const row = await this.db.transaction(async (m) => {
      const inserted: ResourceRow[] = await m.query(
        `INSERT INTO coordinator.resource (name, partitions, replication_factor, spread_by, require_tags, warnings)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING *`,
        [body.name, body.partitions, body.replicationFactor, spreadBy, requireTags, plan.warnings],
      );
      if (inserted.length === 0) throw new TesseraError('CONFLICT', `resource ${body.name} already exists`);
      await m.query(
        `INSERT INTO coordinator.partition_map (resource, partition, target, replicas)
         SELECT $1, (t.i - 1)::int, r.list, r.list
           FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(value, i)
           CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(t.value)) AS list) r`,
        [body.name, JSON.stringify(replicas)],
      );
      await this.operations.start(m, operationId, 'CREATE_RESOURCE', body.name, body.partitions);
      const version = await nextMapVersion(m);
      // Not expressible as partition deltas: clients refetch the map for this version.
      const announced: Omit<MapEventV1, 'eventId' | 'at'> = { version, changes: 0, full: true, reason: 'RESOURCE_CREATED' };
      await appendToOutbox(m, 'coordinator', [{ subject: Subjects.events.map, payload: { ...announced } }]);
      return inserted[0];
    });
    this.relay.kick();
    this.log.info({ resource: body.name, partitions: body.partitions, rf: body.replicationFactor }, 'resource created');
    // Leaders come from consensus; if it is away, the reconciler retries.
    await this.initializeLeaders(body.name, replicas, operationId).catch((error: unknown) =>
      this.log.warn({ resource: body.name, err: error }, 'consensus did not take the resource yet; will retry'),
    );
    return toView(row);
  }

  async delete(name: string): Promise<void> {
    const [rows]: [ResourceRow[], number] = await this.db.query(
      `UPDATE coordinator.resource SET state = 'DELETING' WHERE name = $1 RETURNING *`,
      [name],
    );
    if (rows.length === 0) throw new TesseraError('NOT_FOUND', `no resource named ${name}`);
    await this.finishDelete(name);
  }

  async rebalance(name: string, dryRun: boolean): Promise<RebalancePlanV1> {
    await this.find(name);
    const plan = await this.planner.plan(name, await this.planner.nodes());
    const operationId = dryRun ? null : await this.migrations.start('REBALANCE', name, plan.moves);
    return {
      resource: name,
      dryRun,
      moves: plan.result.moves,
      leaderMoves: plan.result.leaderMoves,
      steps: plan.result.plan.migrations.flatMap((mig) =>
        mig.steps.map((s) => ({ partition: mig.partition, kind: s.kind, node: s.node, ...(s.from ? { from: s.from } : {}) })),
      ),
      before: { replicasMaxOverMean: plan.before.replicasMaxOverMean, leadersMaxOverMean: plan.before.leadersMaxOverMean },
      after: { replicasMaxOverMean: plan.after.replicasMaxOverMean, leadersMaxOverMean: plan.after.leadersMaxOverMean },
      warnings: plan.result.warnings,
      operationId,
    };
  }

  private async find(name: string): Promise<ResourceRow> {
    const rows: ResourceRow[] = await this.db.query(
      `SELECT * FROM coordinator.resource WHERE name = $1 AND state <> 'DELETING'`,
      [name],
    );
    if (rows.length === 0) throw new TesseraError('NOT_FOUND', `no resource named ${name}`);
    return rows[0];
  }

  private async initializeLeaders(
    name: string,
    replicas: string[][],
    operationId: string | null,
    fenced = false,
  ): Promise<void> {
    const reply = await this.network.request(
      'consensus.partition.initialize',
      Subjects.consensus.initializePartitions,
      { resource: name, replicas },
      { timeoutMs: 10_000 },
    );
    await this.db.transaction(async (m) => {
      if (fenced) await this.controller.fence(m);
      await m.query(`UPDATE coordinator.resource SET state = 'ACTIVE' WHERE name = $1 AND state = 'CREATING'`, [name]);
      if (operationId) await this.operations.finish(m, operationId, 'SUCCEEDED', replicas.length);
      else await this.operations.finishBySubject(m, 'CREATE_RESOURCE', name, 'SUCCEEDED', replicas.length);
    });
    this.log.info({ resource: name, created: reply.created }, 'first leaders granted');
  }

  private async finishDelete(name: string, fenced = false): Promise<void> {
    await this.network.request('consensus.partition.delete', Subjects.consensus.deletePartitions, { resource: name }, { timeoutMs: 10_000 });
    await this.db.transaction(async (m) => {
      if (fenced) await this.controller.fence(m);
      await m.query(`DELETE FROM coordinator.resource WHERE name = $1 AND state = 'DELETING'`, [name]);
      const version = await nextMapVersion(m);
      const deleted: Omit<ResourceDeletedEventV1, 'eventId' | 'at'> = { resource: name };
      const announced: Omit<MapEventV1, 'eventId' | 'at'> = { version, changes: 0, full: true, reason: 'RESOURCE_DELETED' };
      await appendToOutbox(m, 'coordinator', [
        { subject: Subjects.events.resourceDeleted, payload: { ...deleted } },
        { subject: Subjects.events.map, payload: { ...announced } },
      ]);
    });
    this.relay.kick();
    this.log.info({ resource: name }, 'resource deleted');
  }

  /**
   * Finishes creations and deletions left half-way (consensus away, coordinator restarted).
   * Singleton work: only the controller-lease holder runs it, and its writes are fenced.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || !this.controller.isActive) return;
    this.reconciling = true;
    try {
      const pending: ResourceRow[] = await this.db.query(
        `SELECT * FROM coordinator.resource WHERE state IN ('CREATING', 'DELETING') ORDER BY created_at`,
      );
      for (const row of pending) {
        try {
          if (row.state === 'DELETING') {
            await this.finishDelete(row.name, true);
          } else {
            await this.initializeLeaders(row.name, await this.maps.targets(row.name), null, true);
          }
        } catch (error) {
          this.log.warn({ resource: row.name, state: row.state, err: error }, 'reconcile attempt failed; will retry');
        }
      }
    } catch (error) {
      this.log.warn({ err: error }, 'reconcile pass failed');
    } finally {
      this.reconciling = false;
    }
  }
}
