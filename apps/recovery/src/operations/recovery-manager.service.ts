import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
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
import { MetricsService, ReadinessRegistry, SERVICE_CONFIG } from '@tessera/service-kit';
import { type RecoveryConfig } from '../config/recovery.config';
import { RecoveryLease } from '../lease/recovery-lease.service';
import { DeadNodeView } from './dead-node-view';
import { type ConsumerRun, LivenessConsumer } from './liveness-consumer';
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
/** How long queued elections wait for health's snapshot after taking the lease before going ahead. */
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
 * NODE_DEAD one before it; a crash leaves them RUNNING and the next active instance resumes them.
 *
 * Only the holder of the active-recovery lease acts: it consumes liveness events and runs
 * operations from the moment it gains the lease (first resuming what its predecessor left
 * PENDING/RUNNING) until it loses it. A standby consumes nothing; every operation write is
 * fenced on the term (OperationRepository), so an ex-holder's late writes are refused.
 */
@Injectable()
export class RecoveryManager implements OnApplicationBootstrap, OnModuleDestroy {
  private view = new DeadNodeView();
  private readonly queue: QueuedOperation[] = [];
  private readonly queued = new Set<string>();
  private readonly consumer: LivenessConsumer;
  private consumerRun: ConsumerRun | null = null;
  private working = false;
  private stopped = false;
  /** Whether this instance holds the lease (as the lease last told us). */
  private active = false;
  /** Bumped at every gain and loss of the lease: work of an earlier activation stops. */
  private generation = 0;
  private consuming = false;
  private resumed = false;
  private activatedAt = 0;
  private seedWaiter: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  private readonly elections: Counter;

  constructor(
    private readonly repository: OperationRepository,
    private readonly network: NetworkManager,
    private readonly lease: RecoveryLease,
    private readonly logger: PinoLogger,
    metrics: MetricsService,
    readiness: ReadinessRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: RecoveryConfig,
  ) {
    logger.setContext(RecoveryManager.name);
    this.consumer = new LivenessConsumer(network, logger);
    // Registered before the lease starts (at bootstrap), so no gain of the lease is missed.
    lease.onChange((active) => (active ? this.activate() : this.deactivate()));
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
    // A standby is ready (it serves reads and waits); the active one once it acts.
    readiness.add('liveness-events', () => !this.active || this.consuming);
    readiness.add('operations-resumed', () => !this.active || this.resumed);
  }

  onApplicationBootstrap(): void {
    if (this.lease.isActive) this.activate();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    // Whatever is unfinished stays RUNNING in Postgres; the next holder resumes it.
    const run = this.consumerRun;
    this.consumerRun = null;
    await run?.stop();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Gained the lease: rebuild the view, resume what is unfinished, then take events. */
  private activate(): void {
    if (this.stopped || this.active) return;
    this.active = true;
    const generation = ++this.generation;
    // What a standby knew is stale (it consumed nothing): start again from health and events.
    this.view = new DeadNodeView();
    this.activatedAt = Date.now();
    this.consuming = false;
    this.resumed = false;
    this.failuresInARow = 0;
    this.logger.info(
      { term: this.lease.term?.toString() ?? null },
      'active recovery: resuming unfinished operations and consuming liveness events',
    );
    void this.seedFromHealth(generation);
    // Resumed operations are older than any event still in the stream: queue them first.
    void this.resumeUnfinished(generation).then(() => this.consumeLiveness(generation));
  }

  /** Lost the lease: stop taking events and drop the queue (the operations stay RUNNING). */
  private deactivate(): void {
    if (!this.active) return;
    this.active = false;
    this.generation++;
    this.consuming = false;
    this.queue.length = 0;
    this.queued.clear();
    this.clearTimers();
    const run = this.consumerRun;
    this.consumerRun = null;
    void run?.stop();
    this.logger.warn({}, 'recovery lease lost: standing by');
  }

  private clearTimers(): void {
    for (const timer of [this.seedWaiter, this.reconcileTimer]) if (timer) clearTimeout(timer);
    this.seedWaiter = null;
    this.reconcileTimer = null;
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
    const created = await this.repository.createForEvent(eventId, nodeId, reason, {
      deathAtMs: atMs,
      graceMs: this.config.graceMs,
    });
    this.view.apply(nodeId, state, atMs);
    if (created === null) {
      this.logger.info({ nodeId, eventId }, 'liveness event already handled');
      return;
    }
    const op = created.failover;
    this.logger.info(
      { nodeId, state, previous, operationId: op.id, reason },
      'failover operation started',
    );
    if (created.rereplication) {
      this.logger.info(
        {
          nodeId,
          operationId: created.rereplication.id,
          dueAt: created.rereplication.due_at,
          graceMs: this.config.graceMs,
        },
        're-replication scheduled after the grace delay',
      );
    }
    if (created.cancelled > 0) {
      this.logger.info({ nodeId }, 'node returned within its grace delay: re-replication cancelled');
    }
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

  /**
   * An operator's grace delay for a pending re-replication (from the node's death; 0 = now).
   * NOT_FOUND for an unknown id, CONFLICT once it has started or ended, or for a failover.
   */
  async setGrace(id: string, graceMs: number): Promise<OperationV1> {
    const updated = await this.repository.setGrace(id, graceMs);
    if (updated !== null) {
      this.logger.info({ operationId: id, graceMs, dueAt: updated.due_at }, 'grace delay changed');
      return toOperationV1(updated);
    }
    const row = await this.repository.get(id);
    if (row === null) throw new TesseraError('NOT_FOUND', `no operation ${id}`);
    if (row.kind !== 'REREPLICATE') {
      throw new TesseraError('CONFLICT', `operation ${id} is a ${row.kind.toLowerCase()}; only a re-replication has a grace delay`);
    }
    throw new TesseraError('CONFLICT', `re-replication ${id} is ${row.state.toLowerCase()}; only a pending one's grace delay can change`);
  }

  private enqueue(op: QueuedOperation): void {
    if (!this.active || this.queued.has(op.id)) return;
    this.queued.add(op.id);
    this.queue.push(op);
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.stopped && this.active && this.queue.length > 0) {
        // Without health's snapshot we may not know every DEAD node: wait a little for it. A
        // grant that ran out locally (renewal late) either comes back or is lost (deactivate).
        if (!this.readyToElect() || !this.lease.isActive) {
          this.seedWaiter ??= setTimeout(() => {
            this.seedWaiter = null;
            void this.work();
          }, 200);
          return;
        }
        const op = this.queue[0];
        if (op === undefined) break;
        const generation = this.generation;
        await this.execute(op, generation);
        if (generation !== this.generation) continue; // the lease changed hands: a new queue
        this.queue.shift();
        this.queued.delete(op.id);
      }
    } finally {
      this.working = false;
    }
  }

  private readyToElect(): boolean {
    return this.view.seeded || Date.now() - this.activatedAt >= SEED_WAIT_MS;
  }

  /**
   * Runs one election and ends the operation, SUCCEEDED or FAILED; it never stays RUNNING
   * unless the lease is lost meanwhile (then the next holder resumes it).
   */
  private async execute(op: QueuedOperation, generation: number): Promise<void> {
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
      // Shutting down or lease lost: left RUNNING, resumed by the next holder.
      if (this.stopped || generation !== this.generation) return;
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
    const ended = await this.finish(op, result, generation);
    if (ended && result.state === 'FAILED') this.scheduleReconcile(op.nodeId);
  }

  /**
   * Persists the end of an operation, retrying while Postgres is unreachable or the grant is
   * being renewed. Returns false once the lease is lost (the write is fenced): the operation
   * stays RUNNING for the next holder.
   */
  private async finish(
    op: QueuedOperation,
    result: FinishedElect,
    generation: number,
  ): Promise<boolean> {
    while (!this.stopped && generation === this.generation) {
      try {
        const ended = await this.repository.finish(op.id, result);
        if (!ended)
          this.logger.warn({ operationId: op.id }, 'operation was already ended elsewhere');
        return true;
      } catch (error) {
        // FENCED after a lost term comes with deactivate(), which ends this loop; FENCED from a
        // grant that only ran out locally is retried until it is renewed or lost.
        if (isFenced(error) && generation !== this.generation) break;
        this.logger.warn(
          { operationId: op.id, err: error },
          'could not record the end of an operation; retrying',
        );
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    this.logger.warn(
      { operationId: op.id, nodeId: op.nodeId },
      'recovery lease lost: the end of the operation is left to the next holder',
    );
    return false;
  }

  /**
   * A failed election may leave partitions led by a DEAD node: try again later (backing off)
   * with a new operation, until one succeeds. Any election in between makes this one moot.
   */
  private scheduleReconcile(nodeId: string): void {
    if (this.reconcileTimer || this.stopped || !this.active) return;
    const delay = reconcileDelayMs(this.failuresInARow);
    this.logger.warn({ nodeId, delayMs: delay }, 'scheduling a reconciling election');
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = null;
      if (this.failuresInARow === 0 || this.queue.length > 0) return;
      void this.startReconcile(nodeId);
    }, delay);
  }

  private async startReconcile(nodeId: string): Promise<void> {
    if (!this.active) return;
    try {
      const op = await this.repository.create(nodeId, 'RECONCILE');
      this.enqueue({ id: op.id, nodeId, reason: 'RECONCILE' });
    } catch (error) {
      if (isFenced(error)) return; // no longer ours: the next holder reconciles on its own
      this.logger.warn({ nodeId, err: error }, 'could not start a reconciling election');
      this.scheduleReconcile(nodeId);
    }
  }

  /**
   * Operations a crash or the previous holder left PENDING/RUNNING: the election is idempotent,
   * so issue it again.
   */
  private async resumeUnfinished(generation: number): Promise<void> {
    while (!this.stopped && generation === this.generation) {
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
  private async seedFromHealth(generation: number): Promise<void> {
    while (!this.stopped && generation === this.generation) {
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
        if (generation !== this.generation) return;
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

  private async consumeLiveness(generation: number): Promise<void> {
    while (!this.stopped && generation === this.generation) {
      try {
        const run = await this.consumer.start((payload) => this.onLiveness(payload));
        if (this.stopped || generation !== this.generation) {
          // Lost the lease (or shut down) while binding: deactivate() found nothing to stop.
          await run.stop();
          return;
        }
        this.consumerRun = run;
        this.consuming = true;
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not consume liveness events; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}

function isFenced(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'FENCED';
}
