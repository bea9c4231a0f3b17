import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { PinoLogger } from 'nestjs-pino';
import { type Counter, type Histogram } from 'prom-client';
import {
  HeartbeatV1,
  LIVENESS_STATES,
  type ListNodesReplyV1,
  type LivenessState,
  Subjects,
  TesseraError,
  validateContract,
} from '@tessera/contracts';
import { NodeLivenessTracker } from '@tessera/failure-detector';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import {
  MetricsService,
  OUTBOX_RELAY,
  ReadinessRegistry,
  SERVICE_CONFIG,
} from '@tessera/service-kit';
import { type HealthConfig } from '../config/health.config';
import { coalesceTransitions, type PendingTransition } from './liveness-batch';
import { LivenessRepository } from './liveness.repository';
import { isFreshRegistration, parseNodeRegistered } from './node-registered.event';
import { TickClock } from './tick-clock';

/** A registration event older than this (relay delay, clock skew) no longer proves life. */
const REGISTRATION_FRESH_MS = 5_000;
/** Pause between attempts when Postgres or JetStream is unreachable. */
const RETRY_MS = 1_000;
/** A stall this long is worth a warning in the log, not only a metric. */
const STALL_WARN_MS = 250;

export type HeartbeatRefusal = 'invalid' | 'identity' | 'stale_incarnation';

/**
 * HealthMonitor: ingests heartbeats (memory only, monotonic clock), evaluates a phi-accrual
 * detector on a ticker, and persists each ALIVE / SUSPECT / DEAD change once, with its
 * `events.internal.node.liveness` event, in one transaction per tick.
 */
@Injectable()
export class HealthMonitor
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly tracker: NodeLivenessTracker;
  private readonly tickClock: TickClock;
  /** Wall-clock ISO time of the last heartbeat received, for operators. */
  private readonly lastHeartbeatAt = new Map<string, string>();
  /** Highest incarnation each node has heartbeated with: older ones are a previous process. */
  private readonly incarnations = new Map<string, number>();
  /** What Postgres holds, so a batch announces only real changes. */
  private readonly persisted = new Map<string, LivenessState>();
  private pending: PendingTransition[] = [];
  private flushing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private evaluation: NodeJS.Immediate | null = null;
  private loaded = false;
  private stopped = false;
  private stopListening: (() => void) | null = null;
  private deafSince: number | null = null;

  private readonly received: Counter;
  private readonly refused: Counter;
  private readonly compensations: Counter;
  private readonly deafSpells: Counter;
  private readonly loopLag: Histogram;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: HealthConfig,
    private readonly repository: LivenessRepository,
    private readonly network: NetworkManager,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly logger: PinoLogger,
    metrics: MetricsService,
    readiness: ReadinessRegistry,
  ) {
    logger.setContext(HealthMonitor.name);
    const { liveness } = config;
    this.tracker = new NodeLivenessTracker({ ...liveness.thresholds, detector: liveness.detector });
    this.tickClock = new TickClock(liveness.tickMs);
    this.received = metrics.counter('tessera_heartbeats_received_total', 'Heartbeats accepted');
    this.refused = metrics.counter('tessera_heartbeats_refused_total', 'Heartbeats refused', [
      'reason',
    ]);
    this.compensations = metrics.counter(
      'tessera_health_pause_compensations_total',
      'Ticks that fired so late that health caught up on queued heartbeats before judging anyone',
    );
    this.deafSpells = metrics.counter(
      'tessera_health_nats_outages_total',
      'Times health lost its NATS connection and, once back, gave every node a grace to heartbeat',
    );
    this.loopLag = metrics.histogram(
      'tessera_health_loop_lag_ms',
      'How late the detector tick fired (event-loop lag of the health process)',
      [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500, 1_000, 2_500, 5_000],
    );
    metrics.gauge('tessera_nodes', 'Tracked nodes by liveness state', ['state'], (g) => {
      const counts = new Map<LivenessState, number>(LIVENESS_STATES.map((s) => [s, 0]));
      for (const n of this.tracker.snapshot(performance.now())) {
        if (n.state !== null) counts.set(n.state, (counts.get(n.state) ?? 0) + 1);
      }
      for (const [state, count] of counts) g.set({ state }, count);
    });
    readiness.add('liveness-loaded', () => this.loaded);
  }

  onApplicationBootstrap(): void {
    // Heartbeats come over NATS: while this process is cut off from it, a silent node proves
    // nothing (a restart of the NATS server silences every node at once), so nobody is judged.
    this.stopListening = this.network.onConnectionChange((connected) => {
      if (!connected) {
        this.tracker.deafen();
        this.deafSince = performance.now();
        this.logger.warn('NATS connection lost: no node is judged until it is back');
        return;
      }
      const now = performance.now();
      const graceMs = this.config.liveness.reconnectGraceMs;
      this.tracker.hear(now, graceMs);
      this.deafSpells.inc();
      this.logger.warn(
        { deafMs: this.deafSince === null ? null : Math.round(now - this.deafSince), graceMs },
        'NATS connection back: nodes get a grace to heartbeat before anyone is judged',
      );
      this.deafSince = null;
    });
    // Heartbeats may already flow (the transport listens before this hook): they are tracked,
    // and the persisted states loaded below take precedence for the nodes Postgres knows.
    void this.loadThenStart();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.stopListening?.();
    if (this.ticker) clearTimeout(this.ticker);
    if (this.evaluation) clearImmediate(this.evaluation);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ticker = null;
    this.evaluation = null;
    this.retryTimer = null;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flushing; // let a transaction in flight finish before Postgres closes
  }

  /** Validates a heartbeat and feeds the detector. Never touches Postgres. */
  receiveHeartbeat(subjectIdentity: string, payload: unknown): void {
    let heartbeat: HeartbeatV1;
    try {
      heartbeat = validateContract(HeartbeatV1, payload);
    } catch (error) {
      this.refused.inc({ reason: 'invalid' satisfies HeartbeatRefusal });
      throw error;
    }
    const { nodeId, incarnation } = heartbeat;
    if (nodeId !== subjectIdentity) {
      this.refused.inc({ reason: 'identity' satisfies HeartbeatRefusal });
      throw new TesseraError(
        'FORBIDDEN',
        `heartbeat for node ${nodeId} sent on the subject of ${subjectIdentity}`,
      );
    }
    const known = this.incarnations.get(nodeId) ?? 0;
    if (incarnation < known) {
      this.refused.inc({ reason: 'stale_incarnation' satisfies HeartbeatRefusal });
      throw new TesseraError(
        'STALE_EPOCH',
        `heartbeat of node ${nodeId} from incarnation ${incarnation} < ${known}`,
      );
    }
    this.incarnations.set(nodeId, incarnation);
    this.tracker.heartbeat(nodeId, performance.now());
    this.lastHeartbeatAt.set(nodeId, new Date().toISOString());
    this.received.inc();
  }

  listNodes(nodeId?: string): ListNodesReplyV1 {
    if (!this.loaded)
      throw new TesseraError('UNAVAILABLE', 'health is still loading node liveness');
    const now = performance.now();
    const nodes = this.tracker
      .snapshot(now)
      .filter((n) => nodeId === undefined || n.nodeId === nodeId)
      .map((n) => ({
        nodeId: n.nodeId,
        // null = heard from since the last tick, not evaluated yet: it just showed life.
        state: n.state ?? 'ALIVE',
        lastHeartbeatAt: this.lastHeartbeatAt.get(n.nodeId) ?? null,
        phi: this.tracker.detector.has(n.nodeId) ? Math.round(n.phi * 1000) / 1000 : null,
      }));
    return { nodes };
  }

  /** A node registered with the coordinator: track it even before its first heartbeat. */
  async onNodeRegistered(payload: unknown): Promise<void> {
    const parsed = parseNodeRegistered(payload);
    if (!parsed.ok) {
      this.logger.error({ reason: parsed.reason }, 'dropping a malformed node-registered event');
      return;
    }
    const { nodeId, incarnation, at } = parsed.value;
    if (this.tracker.state(nodeId) !== undefined) return; // already tracked: heartbeats decide
    if (isFreshRegistration(at, Date.now(), REGISTRATION_FRESH_MS)) {
      // The registration request itself is a sign of life; no heartbeat → DEAD on schedule.
      this.tracker.heartbeat(nodeId, performance.now());
      this.logger.info({ nodeId, incarnation }, 'tracking a registered node');
    } else {
      this.tracker.track(nodeId, performance.now(), 'DEAD');
      this.enqueue([{ nodeId, to: 'DEAD' }]);
      this.logger.info(
        { nodeId, incarnation, registeredAt: at },
        'old registration of an unknown node: DEAD until it heartbeats',
      );
    }
  }

  private async loadThenStart(): Promise<void> {
    while (!this.stopped) {
      try {
        const rows = await this.repository.load();
        const now = performance.now();
        for (const row of rows) {
          // ALIVE / SUSPECT get a fresh start (a grace arrival now); DEAD stays DEAD until it
          // heartbeats. So a restart of health does not declare every node dead at once.
          this.tracker.track(row.nodeId, now, row.state);
          this.persisted.set(row.nodeId, row.state);
          this.incarnations.set(
            row.nodeId,
            Math.max(this.incarnations.get(row.nodeId) ?? 0, row.incarnation),
          );
        }
        this.loaded = true;
        this.logger.info({ nodes: rows.length }, 'node liveness loaded');
        break;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not load node liveness; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    if (this.stopped) return;
    this.arm();
    await this.consumeRegistrations();
  }

  private async consumeRegistrations(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.network.consumeEvents(
          'health-node-registered',
          Subjects.events.nodeRegistered,
          (payload) => this.onNodeRegistered(payload),
        );
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'could not consume node registrations; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private arm(): void {
    if (this.stopped) return;
    this.tickClock.armed(performance.now());
    this.ticker = setTimeout(() => this.tick(), this.config.liveness.tickMs);
  }

  /**
   * The timer only measures how late it fired; phi is judged in `evaluate`, after the event
   * loop's poll phase (setImmediate runs after it): heartbeats that arrived while this timer
   * waited, our own stall, are read first and count as arrivals, so the stall is never held
   * against a live node, and a node that really fell silent gets no credit for it either.
   */
  private tick(): void {
    this.ticker = null;
    let stalled = false;
    try {
      const lag = this.tickClock.fired(performance.now());
      this.loopLag.observe(lag);
      if (lag > this.config.liveness.maxLoopLagMs) {
        // The heartbeats about to be read queued up during the stall: they arrive as a burst,
        // so the intervals around it are not the nodes' rhythm and are not sampled.
        stalled = true;
        this.tracker.beginCatchUp();
        this.compensations.inc();
        if (lag >= STALL_WARN_MS)
          this.logger.warn({ lagMs: Math.round(lag) }, 'health monitor stalled; catching up');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'liveness tick failed');
    }
    this.evaluation = setImmediate(() => this.evaluate(stalled));
  }

  private evaluate(stalled: boolean): void {
    this.evaluation = null;
    try {
      if (stalled) this.tracker.endCatchUp();
      const now = performance.now();
      const transitions = this.tracker.evaluate(now);
      for (const t of transitions) {
        const stats = this.tracker.detector.stats(t.nodeId);
        // A suspicion or a death is what an operator looks for first: above the info level.
        const level = t.to === 'ALIVE' ? 'info' : 'warn';
        this.logger[level](
          {
            nodeId: t.nodeId,
            from: t.from,
            to: t.to,
            phi: Math.round(t.phi * 100) / 100,
            // How the detector saw it: silence since the last heartbeat read, and its window.
            silentMs: stats ? Math.round(now - stats.lastArrivalMs) : null,
            meanMs: stats ? Math.round(stats.meanMs) : null,
            stdDevMs: stats ? Math.round(stats.stdDeviationMs) : null,
          },
          'node liveness changed',
        );
      }
      this.enqueue(transitions.map((t) => ({ nodeId: t.nodeId, to: t.to })));
    } catch (error) {
      this.logger.error({ err: error }, 'liveness evaluation failed');
    } finally {
      this.arm();
    }
  }

  private enqueue(transitions: PendingTransition[]): void {
    if (transitions.length === 0) return;
    this.pending.push(...transitions);
    this.flush();
  }

  /** One transaction for everything pending; on failure the batch waits for the next attempt. */
  private flush(): void {
    if (this.flushing || this.retryTimer || this.stopped) return;
    this.flushing = this.persistPending()
      .catch((error: unknown) => this.logger.error({ err: error }, 'liveness persistence failed'))
      .finally(() => {
        this.flushing = null;
        if (this.pending.length > 0) this.flush(); // queued after the loop's last check
      });
  }

  private async persistPending(): Promise<void> {
    while (this.pending.length > 0 && !this.stopped) {
      const taken = this.pending;
      this.pending = [];
      const writes = coalesceTransitions(
        taken,
        this.persisted,
        (id) => this.incarnations.get(id) ?? 0,
      );
      if (writes.length === 0) continue;
      try {
        const applied = await this.repository.apply(writes);
        for (const w of writes) this.persisted.set(w.nodeId, w.state);
        if (applied.length > 0) this.relay.kick();
      } catch (error) {
        this.pending = [...taken, ...this.pending];
        this.logger.warn(
          { err: error, nodes: writes.map((w) => w.nodeId) },
          'could not persist liveness changes; retrying',
        );
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.flush();
        }, RETRY_MS);
        return;
      }
    }
  }
}
