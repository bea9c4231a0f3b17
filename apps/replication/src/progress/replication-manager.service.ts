import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { type Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  type ListReplicasReplyV1,
  type ReplicaReportV1,
  Subjects,
  TesseraError,
  parseReplicaReport,
} from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { claimInbox } from '@tessera/persistence';
import { MetricsService, ReadinessRegistry } from '@tessera/service-kit';
import { parsePartitionsChanged } from '../partitions/partitions-changed.event';
import { withLag } from './replica-lag';
import { ReplicaProgressRepository } from './replica-progress.repository';
import { type ProgressRow, reportRows } from './report-rows';

const RETRY_MS = 1_000;

/**
 * ReplicationManager: keeps each replica's reported log position (one batched upsert per
 * report) and answers with every replica's lag behind its partition's leader.
 */
@Injectable()
export class ReplicationManager implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly reports: Counter;
  private consuming = false;
  private stopped = false;
  /** Per node: positions reported and not yet stored (newest per replica), and the store loop. */
  private readonly newest = new Map<string, Map<string, ProgressRow>>();
  private readonly storing = new Map<string, Promise<void>>();

  constructor(
    private readonly repository: ReplicaProgressRepository,
    private readonly network: NetworkManager,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: PinoLogger,
    metrics: MetricsService,
    readiness: ReadinessRegistry,
  ) {
    logger.setContext(ReplicationManager.name);
    this.reports = metrics.counter('tessera_replica_reports_total', 'Replica reports received', [
      'result',
    ]);
    metrics.gauge(
      'tessera_replica_max_lag',
      'Largest lag (offsets) of any replica behind its leader',
      [],
      async (g) => {
        g.set(await this.repository.maxLag().catch(() => -1));
      },
    );
    readiness.add('partition-events', () => this.consuming);
  }

  onApplicationBootstrap(): void {
    void this.consumePartitionEvents();
  }

  onModuleDestroy(): void {
    this.stopped = true;
  }

  /** `replication.replica.report.<nodeId>`: validated, identity-checked, then one upsert. */
  async report(subjectIdentity: string, payload: unknown): Promise<void> {
    let rows: ProgressRow[];
    let report: ReplicaReportV1;
    try {
      report = parseReplicaReport(payload);
      if (report.nodeId !== subjectIdentity) {
        throw new TesseraError(
          'FORBIDDEN',
          `report of node ${report.nodeId} sent on the subject of ${subjectIdentity}`,
        );
      }
      rows = reportRows(report);
    } catch (error) {
      this.reports.inc({ result: 'refused' });
      throw error;
    }
    this.reports.inc({ result: 'accepted' });
    await this.store(report.nodeId, rows);
  }

  /**
   * Stores a node's report, one upsert at a time per node. Reports that arrive while one is being
   * written are merged, newest position per replica (a report is whole or names some partitions),
   * and written next as one: under load, reports queued behind row locks otherwise held every
   * pool connection until the pool timed out (seen at 10,000 partitions).
   */
  private store(nodeId: string, rows: ProgressRow[]): Promise<void> {
    let pending = this.newest.get(nodeId);
    if (!pending) {
      pending = new Map();
      this.newest.set(nodeId, pending);
    }
    for (const row of rows) pending.set(`${row.resource}\u0000${row.partition}`, row);
    const running = this.storing.get(nodeId);
    if (running) return running;
    const loop = (async () => {
      try {
        for (let next = this.newest.get(nodeId); next; next = this.newest.get(nodeId)) {
          this.newest.delete(nodeId);
          await this.repository.upsert(nodeId, [...next.values()]);
        }
      } finally {
        this.storing.delete(nodeId);
        this.newest.delete(nodeId);
      }
    })();
    this.storing.set(nodeId, loop);
    return loop;
  }

  async listReplicas(resource?: string): Promise<ListReplicasReplyV1> {
    return { replicas: withLag(await this.repository.list(resource)) };
  }

  /** `events.internal.partitions.changed`: a deleted resource's progress rows go, once. */
  async onPartitionsChanged(payload: unknown): Promise<void> {
    const parsed = parsePartitionsChanged(payload);
    if (!parsed.ok) {
      this.logger.error({ reason: parsed.reason }, 'dropping a malformed partitions-changed event');
      return;
    }
    const { eventId, reason, deletedResource } = parsed.value;
    if (reason !== 'DELETE' || deletedResource === null) return;
    const deleted = await this.dataSource.transaction(async (manager) => {
      if (!(await claimInbox(manager, 'replication', eventId))) return null;
      return this.repository.deleteResource(manager, deletedResource);
    });
    if (deleted !== null)
      this.logger.info(
        { resource: deletedResource, rows: deleted, eventId },
        'dropped progress of a deleted resource',
      );
  }

  private async consumePartitionEvents(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.network.consumeEvents(
          'replication-partitions',
          Subjects.events.partitionsChanged,
          (payload) => this.onPartitionsChanged(payload),
        );
        this.consuming = true;
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not consume partition events; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
