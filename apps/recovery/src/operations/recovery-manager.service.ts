import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type Counter } from 'prom-client';
import {
  isToken,
  type ListOperationsReplyV1,
  OPERATION_STATES,
  type OperationV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { MetricsService, ReadinessRegistry } from '@tessera/service-kit';
import { DeadNodeView } from './dead-node-view';
import { isLivenessState, parseLivenessEvent } from './liveness-event';
import {
  type ElectReason,
  type ElectStep,
  electOutcome,
  type OperationRecord,
  progressOf,
  reasonOf,
  reconcileDelayMs,
  toOperationV1,
} from './operation-view';
import { type FinishedElect, OperationRepository } from './operation.repository';

/** Pause between attempts when Postgres, health or JetStream is unreachable. */
const RETRY_MS = 1_000;
/** How long queued elections wait for health's snapshot at start-up before going ahead. */
const SEED_WAIT_MS = 5_000;
export const DEFAULT_LIST_LIMIT = 100;

interface QueuedOperation {
  id: string;
  nodeId: string;
  reason: ElectReason;
}

/**
 * RecoveryManager: when health declares a node DEAD (or a DEAD node returns), persist a FAILOVER
 * operation, ask consensus to elect leaders away from every DEAD node, and record the outcome.
 * Operations run one at a time, in order, so a NODE_RETURNED election never overtakes the
 * NODE_DEAD one before it; a crash leaves them RUNNING and the next start resumes them.
 */
@Injectable()
export class RecoveryManager implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly view = new DeadNodeView();
  private readonly queue: QueuedOperation[] = [];
  private readonly queued = new Set<string>();
  private working = false;
  private stopped = false;
  private consuming = false;
  private resumed = false;
  private readonly startedAt = Date.now();
  private seedWaiter: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  private readonly elections: Counter;

  constructor(
    private readonly repository: OperationRepository,
    private readonly network: NetworkManager,
    private readonly logger: PinoLogger,
    metrics: MetricsService,
    readiness: ReadinessRegistry,
  ) {
    logger.setContext(RecoveryManager.name);
    this.elections = metrics.counter(
      'tessera_elections_requested_total',
      'Elections recovery asked consensus for',
      ['reason', 'result'],
    );
    metrics.gauge(
      'tessera_recovery_operations',
      'Recovery operations by state',
      ['state'],
      async (g) => {
        const counts = await this.repository.countByState().catch(() => null);
        if (counts === null) return;
        for (const state of OPERATION_STATES) g.set({ state }, counts.get(state) ?? 0);
      },
    );
    readiness.add('liveness-events', () => this.consuming);
    readiness.add('operations-resumed', () => this.resumed);
  }

  onApplicationBootstrap(): void {
    void this.seedFromHealth();
    void this.resumeUnfinished();
    void this.consumeLiveness();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const timer of [this.seedWaiter, this.reconcileTimer]) if (timer) clearTimeout(timer);
  }

  /** `events.internal.node.liveness`: update the view; on DEAD or a return, start a failover. */
  async onLiveness(payload: unknown): Promise<void> {
    const parsed = parseLivenessEvent(payload);
    if (!parsed.ok) {
      this.logger.error({ reason: parsed.reason }, 'dropping a malformed liveness event');
      return;
    }
    const { eventId, nodeId, state, previous, atMs } = parsed.value;
    if (this.view.isStale(nodeId, atMs)) {
      // Redelivered after a newer change of the same node: acting on it would undo that one.
      this.logger.warn(
        { nodeId, state, eventId },
        'ignoring a liveness event older than one already handled',
      );
      return;
    }
    const reason: ElectReason | null =
      state === 'DEAD'
        ? 'NODE_DEAD'
        : state === 'ALIVE' && (previous === 'DEAD' || this.view.isDead(nodeId))
          ? 'NODE_RETURNED'
          : null;
    if (reason === null) {
      this.view.apply(nodeId, state, atMs);
      return;
    }
    // The operation and the inbox claim commit together: a redelivered event finds its claim
    // and creates nothing; a failure here throws, so the event is redelivered and retried.
    const op = await this.repository.createForEvent(eventId, nodeId, reason);
    this.view.apply(nodeId, state, atMs);
    if (op === null) {
      this.logger.info({ nodeId, eventId }, 'liveness event already handled');
      return;
    }
    this.logger.info(
      { nodeId, state, previous, operationId: op.id, reason },
      'failover operation started',
    );
    this.enqueue({ id: op.id, nodeId, reason });
  }

  async listOperations(limit = DEFAULT_LIST_LIMIT): Promise<ListOperationsReplyV1> {
    return { operations: (await this.repository.list(limit)).map(toOperationV1) };
  }

  async getOperation(id: string): Promise<OperationV1> {
    const row = await this.repository.get(id);
    if (row === null) throw new TesseraError('NOT_FOUND', `no operation ${id}`);
    return toOperationV1(row);
  }

  private enqueue(op: QueuedOperation): void {
    if (this.queued.has(op.id)) return;
    this.queued.add(op.id);
    this.queue.push(op);
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        if (!this.readyToElect()) {
          // Without health's snapshot we may not know every DEAD node: wait a little for it.
          this.seedWaiter ??= setTimeout(() => {
            this.seedWaiter = null;
            void this.work();
          }, 200);
          return;
        }
        const op = this.queue[0];
        if (op === undefined) break;
        await this.execute(op);
        this.queue.shift();
        this.queued.delete(op.id);
      }
    } finally {
      this.working = false;
    }
  }

  private readyToElect(): boolean {
    return this.view.seeded || Date.now() - this.startedAt >= SEED_WAIT_MS;
  }

  /** Runs one election and ends the operation, SUCCEEDED or FAILED; it never stays RUNNING. */
  private async execute(op: QueuedOperation): Promise<void> {
    const dead = this.view.dead();
    // A node whose DEAD operation we resume may be unknown to the view yet: still unavailable.
    const unavailable =
      op.reason === 'NODE_DEAD' && !this.view.knows(op.nodeId) ? [...dead, op.nodeId].sort() : dead;
    const context = { operationId: op.id, nodeId: op.nodeId, reason: op.reason, unavailable };
    let result: FinishedElect;
    try {
      const reply = await this.network.request(
        'consensus.partition.elect',
        Subjects.consensus.electLeaders,
        { unavailable, reason: op.reason },
        { timeoutMs: 5_000, retries: 5 },
      );
      const outcome = electOutcome(reply);
      const step: ElectStep = {
        name: 'elect',
        state: 'SUCCEEDED',
        reason: op.reason,
        unavailable,
        ...outcome,
      };
      result = { state: 'SUCCEEDED', ...progressOf(outcome), step, error: null };
      this.elections.inc({ reason: op.reason, result: 'ok' });
      this.failuresInARow = 0;
      this.logger.info({ ...context, ...outcome }, 'failover election done');
    } catch (error) {
      if (this.stopped) return; // shutting down: left RUNNING, resumed at the next start
      const message = error instanceof Error ? error.message : String(error);
      const step: ElectStep = {
        name: 'elect',
        state: 'FAILED',
        reason: op.reason,
        unavailable,
        error: message,
      };
      result = { state: 'FAILED', done: 0, total: 0, step, error: message };
      this.elections.inc({ reason: op.reason, result: 'error' });
      this.failuresInARow++;
      this.logger.error({ ...context, err: error }, 'failover election failed');
    }
    await this.finish(op, result);
    if (result.state === 'FAILED') this.scheduleReconcile(op.nodeId);
  }

  /** Persists the end of an operation, retrying while Postgres is unreachable. */
  private async finish(op: QueuedOperation, result: FinishedElect): Promise<void> {
    while (!this.stopped) {
      try {
        const ended = await this.repository.finish(op.id, result);
        if (!ended)
          this.logger.warn({ operationId: op.id }, 'operation was already ended elsewhere');
        return;
      } catch (error) {
        this.logger.warn(
          { operationId: op.id, err: error },
          'could not record the end of an operation; retrying',
        );
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /**
   * A failed election may leave partitions led by a DEAD node: try again later (backing off)
   * with a new operation, until one succeeds. Any election in between makes this one moot.
   */
  private scheduleReconcile(nodeId: string): void {
    if (this.reconcileTimer || this.stopped) return;
    const delay = reconcileDelayMs(this.failuresInARow);
    this.logger.warn({ nodeId, delayMs: delay }, 'scheduling a reconciling election');
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = null;
      if (this.failuresInARow === 0 || this.queue.length > 0) return;
      void this.startReconcile(nodeId);
    }, delay);
  }

  private async startReconcile(nodeId: string): Promise<void> {
    try {
      const op = await this.repository.create(nodeId, 'RECONCILE');
      this.enqueue({ id: op.id, nodeId, reason: 'RECONCILE' });
    } catch (error) {
      this.logger.warn({ nodeId, err: error }, 'could not start a reconciling election');
      this.scheduleReconcile(nodeId);
    }
  }

  /** Operations a crash left PENDING/RUNNING: the election is idempotent, so issue it again. */
  private async resumeUnfinished(): Promise<void> {
    while (!this.stopped) {
      try {
        const rows: OperationRecord[] = await this.repository.unfinished();
        for (const row of rows) {
          this.logger.info(
            { operationId: row.id, nodeId: row.node_id },
            'resuming an interrupted operation',
          );
          this.enqueue({ id: row.id, nodeId: row.node_id, reason: reasonOf(row.steps) });
        }
        this.resumed = true;
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not load interrupted operations; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** Asks health which nodes are DEAD now; health may be down: keep trying in the background. */
  private async seedFromHealth(): Promise<void> {
    while (!this.stopped) {
      const mark = this.view.mark();
      try {
        const reply = await this.network.request(
          'health.node.list',
          Subjects.health.listNodes,
          {},
          { timeoutMs: 2_000, retries: 10 },
        );
        const nodes = (Array.isArray(reply.nodes) ? (reply.nodes as unknown[]) : []).flatMap(
          (n) => {
            const { nodeId, state } = (typeof n === 'object' && n !== null ? n : {}) as Record<
              string,
              unknown
            >;
            return isToken(nodeId) && isLivenessState(state) ? [{ nodeId, state }] : [];
          },
        );
        this.view.seed(mark, nodes);
        this.logger.info({ dead: this.view.dead() }, 'node liveness seeded from health');
        return;
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn({ err: error }, 'health did not list nodes; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async consumeLiveness(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.network.consumeEvents(
          'recovery-liveness',
          Subjects.events.nodeLiveness,
          (payload) => this.onLiveness(payload),
        );
        this.consuming = true;
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not consume liveness events; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
