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
 * How often a node's whole report is written in full although unchanged: bounds the drift between
 * what this process remembers writing and the table (another instance, a failed write).
 */
const REWRITE_EVERY_MS = 60_000;

const keyOf = (r: { resource: string; partition: number }): string =>
  `${r.resource}\u0000${r.partition}`;
const signatureOf = (r: ProgressRow): string =>
  `${r.role}|${r.leaderEpoch}|${r.logEndOffset}|${r.highWatermark ?? ''}`;

/** Reports of one node received and not yet written, merged (newest position per replica). */
interface PendingReports {
  rows: Map<string, ProgressRow>;
  /** The replicas of the latest whole report among them (and those named since); null: none whole. */
  held: Set<string> | null;
}

/** What this process last wrote for a node: each held replica's position, and when it was all rewritten. */
interface Written {
  signatures: Map<string, string>;
  rewrittenAt: number;
}

/**
 * ReplicationManager: keeps each replica's reported log position and answers with every
 * replica's lag behind its partition's leader. Only what a report changes is written (plus the
 * node's freshness): nodes report every replica every 2 s, nearly all of them unchanged.
 */
@Injectable()
export class ReplicationManager implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly reports: Counter;
  private consuming = false;
  private stopped = false;
  /** Per node: reports not yet stored, the store loop, and what was last written. */
  private readonly pending = new Map<string, PendingReports>();
  private readonly storing = new Map<string, Promise<void>>();
  private readonly written = new Map<string, Written>();

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
    await this.store(report.nodeId, rows, report.partial !== true);
  }

  /**
   * Stores a node's report, one write at a time per node. Reports that arrive while one is being
   * written are merged, newest position per replica, and written next as one: under load, reports
   * queued behind row locks otherwise held every pool connection until the pool timed out (seen
   * at 10,000 partitions).
   */
  private store(nodeId: string, rows: ProgressRow[], whole: boolean): Promise<void> {
    let pending = this.pending.get(nodeId);
    if (!pending) {
      pending = { rows: new Map(), held: null };
      this.pending.set(nodeId, pending);
    }
    if (whole) {
      // A replica left out of a whole report is no longer held: older positions of it go.
      const held = new Set(rows.map(keyOf));
      for (const key of pending.rows.keys()) if (!held.has(key)) pending.rows.delete(key);
      pending.held = held;
    }
    for (const row of rows) {
      const key = keyOf(row);
      pending.rows.set(key, row);
      pending.held?.add(key);
    }
    const running = this.storing.get(nodeId);
    if (running) return running;
    const loop = (async () => {
      try {
        for (let next = this.pending.get(nodeId); next; next = this.pending.get(nodeId)) {
          this.pending.delete(nodeId);
          await this.write(nodeId, next);
        }
      } finally {
        this.storing.delete(nodeId);
        this.pending.delete(nodeId);
      }
    })();
    this.storing.set(nodeId, loop);
    return loop;
  }

  /** Writes what changed since this process last wrote the node's replicas. */
  private async write(nodeId: string, reports: PendingReports): Promise<void> {
    const now = Date.now();
    const known = this.written.get(nodeId);
    const whole = reports.held !== null;
    const rewrite = whole && (!known || now - known.rewrittenAt >= REWRITE_EVERY_MS);
    const signatures = rewrite || !known ? new Map<string, string>() : known.signatures;
    const rows: ProgressRow[] = [];
    for (const [key, row] of reports.rows) {
      const signature = signatureOf(row);
      if (rewrite || signatures.get(key) !== signature) rows.push(row);
      signatures.set(key, signature);
    }
    const dropped: { resource: string; partition: number }[] = [];
    if (reports.held && !rewrite) {
      for (const key of signatures.keys()) {
        if (reports.held.has(key)) continue;
        const [resource, partition] = key.split('\u0000');
        dropped.push({ resource, partition: Number(partition) });
        signatures.delete(key);
      }
    }
    // Forget first: if the write fails, the next whole report is written in full.
    this.written.delete(nodeId);
    await this.repository.record(nodeId, { rows, dropped, whole, rewrite });
    this.written.set(nodeId, {
      signatures,
      rewrittenAt: rewrite ? now : (known?.rewrittenAt ?? 0),
    });
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
