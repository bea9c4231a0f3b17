import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type Counter } from 'prom-client';
import { type OperationV1, Subjects, TesseraError } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { MetricsService } from '@tessera/service-kit';
import { RecoveryLease } from '../lease/recovery-lease.service';
import {
  type OperationRecord,
  type ReplaceStep,
  rereplicationSteps,
} from '../operations/operation-view';
import { OperationRepository } from '../operations/operation.repository';

/** How often due and running re-replications are looked at (grace delays are in seconds). */
const TICK_MS = 500;
/** Progress of the coordinator's migration is read at most this often per operation. */
const FOLLOW_MS = 1_000;

type Outcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/**
 * The second half of recovery (RecoveryManager does the failover): once a dead node's grace delay
 * is over and it is still DEAD, ask the coordinator to re-place its replicas (a REPLACE migration:
 * add elsewhere, catch up, join the ISR, drop the dead copy) and follow that migration to its end,
 * recording its progress. All state is in recovery.operation (due time, the coordinator's
 * operation id), so after a crash the next active instance picks up exactly where this one was.
 */
@Injectable()
export class ReReplicator implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private readonly lastFollowed = new Map<string, number>();
  private readonly lastWarned = new Map<string, string>();
  private readonly outcomes: Counter;

  constructor(
    private readonly repository: OperationRepository,
    private readonly network: NetworkManager,
    private readonly lease: RecoveryLease,
    private readonly logger: PinoLogger,
    metrics: MetricsService,
  ) {
    logger.setContext(ReReplicator.name);
    this.outcomes = metrics.counter(
      'tessera_rereplications_total',
      'Re-replications of dead nodes, by how they ended',
      ['result'],
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over what is due; only the active instance acts (every write is fenced anyway). */
  async tick(): Promise<void> {
    if (this.ticking || !this.lease.isActive) return;
    this.ticking = true;
    try {
      for (const row of await this.repository.rereplicationsDue()) {
        if (!this.lease.isActive) break;
        try {
          await (row.state === 'PENDING' ? this.begin(row) : this.follow(row));
        } catch (error) {
          this.warnOnce(row, error);
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read due re-replications; retrying');
    } finally {
      this.ticking = false;
    }
  }

  /** The grace delay is over: unless the node is back, start the coordinator's re-placement. */
  private async begin(row: OperationRecord): Promise<void> {
    const [grace] = rereplicationSteps(row);
    const state = await this.livenessOf(row.node_id);
    if (state !== null && state !== 'DEAD') {
      // Its return event normally cancels the wait; this covers a return we have not consumed yet.
      await this.end(row, 'CANCELLED', [grace], `the node is ${state} again`);
      return;
    }
    const reply = await this.network.request(
      'coordinator.node.replace',
      Subjects.coordinator.replaceNode,
      { nodeId: row.node_id },
      { timeoutMs: 10_000 },
    );
    const replace: ReplaceStep = {
      name: 'replace',
      state: 'RUNNING',
      coordinatorOperationId: reply.operationId,
    };
    if (reply.operationId === null) {
      await this.end(row, 'SUCCEEDED', [grace, { ...replace, state: 'SUCCEEDED' }], null);
      return;
    }
    await this.repository.recordRereplication(row.id, {
      state: 'RUNNING',
      done: 0,
      total: 0,
      steps: [grace, replace],
    });
    this.lastFollowed.set(row.id, Date.now());
    this.logger.info(
      { operationId: row.id, nodeId: row.node_id, migration: reply.operationId, graceMs: grace.graceMs },
      'grace delay over: re-placing the dead node’s replicas',
    );
  }

  /** Mirrors the coordinator migration's progress until it ends. */
  private async follow(row: OperationRecord): Promise<void> {
    const last = this.lastFollowed.get(row.id) ?? 0;
    if (Date.now() - last < FOLLOW_MS) return;
    this.lastFollowed.set(row.id, Date.now());
    const [grace, replace] = rereplicationSteps(row);
    if (!replace?.coordinatorOperationId) {
      // Crashed between asking and recording: asking again returns the migration already running.
      await this.begin(row);
      return;
    }
    let migration: OperationV1;
    try {
      ({ operation: migration } = await this.network.request(
        'coordinator.operation.get',
        Subjects.coordinator.getOperation,
        { id: replace.coordinatorOperationId },
        { timeoutMs: 5_000 },
      ));
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'NOT_FOUND') {
        await this.end(row, 'FAILED', [grace, { ...replace, state: 'FAILED' }], 'the coordinator lost the migration');
        return;
      }
      throw error;
    }
    const { done, total } = migration.progress;
    if (migration.state === 'RUNNING' || migration.state === 'PENDING') {
      if (done !== row.done || total !== row.total) {
        await this.repository.recordRereplication(row.id, { state: 'RUNNING', done, total, steps: [grace, replace] });
      }
      return;
    }
    const outcome: Outcome = migration.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    await this.end(
      row,
      outcome,
      [grace, { ...replace, state: migration.state }],
      outcome === 'FAILED' ? `the re-placement ${migration.state.toLowerCase()}: ${migration.error ?? 'no reason given'}` : null,
      { done, total },
    );
  }

  private async end(
    row: OperationRecord,
    state: Outcome,
    steps: Parameters<OperationRepository['recordRereplication']>[1]['steps'],
    error: string | null,
    progress: { done: number; total: number } = { done: row.done, total: row.total },
  ): Promise<void> {
    const ended = await this.repository.recordRereplication(row.id, { state, ...progress, steps, error });
    this.lastFollowed.delete(row.id);
    this.lastWarned.delete(row.id);
    if (!ended) return;
    this.outcomes.inc({ result: state.toLowerCase() });
    const context = { operationId: row.id, nodeId: row.node_id, ...progress, error };
    if (state === 'FAILED') this.logger.error(context, 're-replication failed');
    else this.logger.info(context, `re-replication ${state.toLowerCase()}`);
  }

  /** The node's liveness as health sees it now; null when health does not know it. */
  private async livenessOf(nodeId: string): Promise<string | null> {
    const reply = await this.network.request(
      'health.node.list',
      Subjects.health.listNodes,
      { nodeId },
      { timeoutMs: 2_000, retries: 1 },
    );
    return reply.nodes.find((n) => n.nodeId === nodeId)?.state ?? null;
  }

  /** Transient failures (coordinator busy, CONFLICT with another migration) retry every tick: log each kind once. */
  private warnOnce(row: OperationRecord, error: unknown): void {
    const key = error instanceof TesseraError ? error.code : error instanceof Error ? error.name : 'error';
    if (this.lastWarned.get(row.id) === key) return;
    this.lastWarned.set(row.id, key);
    this.logger.warn({ operationId: row.id, nodeId: row.node_id, err: error }, 're-replication step failed; retrying');
  }
}
