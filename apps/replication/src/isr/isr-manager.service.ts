import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type Counter } from 'prom-client';
import { isTesseraError, type PartitionStateV1, Subjects } from '@tessera/contracts';
import { NetworkManager, queryAllPartitions } from '@tessera/messaging';
import { MetricsService } from '@tessera/service-kit';
import { ReplicaProgressRepository } from '../progress/replica-progress.repository';
import { IsrFlapDamper } from './flap-damping';
import { proposeIsr, type ReplicaSeen } from './isr-decision';

const TICK_MS = 1_000;
const VIEW_REFRESH_MS = 2_000;
/**
 * Proposals in flight at once. Consensus group-commits whatever is queued into one transaction,
 * so more in flight means bigger batches: at 16, a restarted node's 6,000 replicas took minutes
 * to rejoin their ISRs.
 */
const PARALLEL_PROPOSALS = 500;

/**
 * Proposes ISR changes to consensus from the replicas' reported positions: caught-up replicas
 * join (this is what completes the "wait in sync" step of a migration), silent or far-behind
 * followers leave. Each proposal is a compare-and-set on the partition epoch it was computed
 * from, so a stale view can only be refused, never applied.
 */
@Injectable()
export class IsrManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private view = new Map<string, PartitionStateV1>();
  private viewAt = 0;
  /** Per partition, per replica outside its ISR: when this process first saw it out (see proposeIsr). */
  private readonly outSince = new Map<string, Map<string, number>>();
  /** Replicas that keep leaving an ISR wait longer to rejoin it (flap-damping.ts). */
  private readonly damper = new IsrFlapDamper();
  private readonly proposals: Counter;
  private readonly holds: Counter;

  constructor(
    private readonly repository: ReplicaProgressRepository,
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
    metrics: MetricsService,
  ) {
    this.log.setContext(IsrManager.name);
    this.proposals = metrics.counter(
      'tessera_isr_proposals_total',
      'ISR changes proposed to consensus',
      ['kind', 'result'],
    );
    this.holds = metrics.counter(
      'tessera_isr_flap_holds_total',
      'Replicas held out of an ISR for a while because they kept leaving it',
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (Date.now() - this.viewAt > VIEW_REFRESH_MS) {
        this.view = new Map(
          (await queryAllPartitions(this.network)).map((s) => [`${s.resource}/${s.partition}`, s]),
        );
        this.viewAt = Date.now();
        for (const key of this.outSince.keys()) if (!this.view.has(key)) this.outSince.delete(key);
        this.damper.retain(this.view);
        for (const [key, state] of this.view) this.observe(key, state);
      }
      const seen = new Map<string, Map<string, ReplicaSeen>>();
      for (const r of await this.repository.seen()) {
        const key = `${r.resource}/${r.partition}`;
        const byNode = seen.get(key) ?? new Map<string, ReplicaSeen>();
        byNode.set(r.node_id, {
          nodeId: r.node_id,
          role: r.role,
          leaderEpoch: r.leader_epoch,
          logEndOffset: Number(r.log_end_offset),
          highWatermark: r.high_watermark === null ? null : Number(r.high_watermark),
          ageMs: r.age_ms,
        });
        seen.set(key, byNode);
      }
      const proposals: { state: PartitionStateV1; isr: string[] }[] = [];
      const now = Date.now();
      for (const [key, state] of this.view) {
        const outForMs = new Map<string, number>();
        for (const [nodeId, since] of this.outSince.get(key) ?? []) {
          // Held (flapping): left out of outForMs, so proposeIsr cannot readmit it yet.
          if (now - since >= this.damper.holdMs(key, nodeId, now))
            outForMs.set(nodeId, now - since);
        }
        const isr = proposeIsr(state, seen.get(key) ?? new Map(), outForMs);
        if (isr) proposals.push({ state, isr });
      }
      for (let i = 0; i < proposals.length; i += PARALLEL_PROPOSALS) {
        await Promise.all(
          proposals.slice(i, i + PARALLEL_PROPOSALS).map((p) => this.propose(p.state, p.isr)),
        );
      }
    } catch (error) {
      this.log.warn({ err: error }, 'ISR pass failed; will retry');
    } finally {
      this.busy = false;
    }
  }

  /** Notes when each replica outside the ISR was first seen out (kept while it stays out). */
  private observe(key: string, state: PartitionStateV1): void {
    const now = Date.now();
    for (const { nodeId, holdMs } of this.damper.observe(key, state.isr, state.replicas, now)) {
      this.holds.inc();
      this.log.info(
        { resource: state.resource, partition: state.partition, nodeId, holdMs },
        'replica keeps leaving the ISR: held out before it may rejoin',
      );
    }
    const known = this.outSince.get(key);
    const out = new Map<string, number>();
    for (const nodeId of state.replicas) {
      if (!state.isr.includes(nodeId)) out.set(nodeId, known?.get(nodeId) ?? now);
    }
    if (out.size === 0) this.outSince.delete(key);
    else this.outSince.set(key, out);
  }

  private async propose(state: PartitionStateV1, isr: string[]): Promise<void> {
    const kind = isr.length > state.isr.length ? 'expand' : 'shrink';
    try {
      const reply = await this.network.request(
        'consensus.partition.isr',
        Subjects.consensus.alterIsr,
        {
          resource: state.resource,
          partition: state.partition,
          isr,
          partitionEpoch: state.partitionEpoch,
        },
        { timeoutMs: 5_000 },
      );
      const key = `${state.resource}/${state.partition}`;
      this.view.set(key, reply.state);
      this.observe(key, reply.state);
      this.proposals.inc({ kind, result: 'accepted' });
      this.log.info(
        {
          resource: state.resource,
          partition: state.partition,
          from: state.isr,
          isr: reply.state.isr,
        },
        `ISR ${kind} accepted`,
      );
    } catch (error) {
      // CONFLICT: the partition moved on since our view; the next refresh decides again.
      this.proposals.inc({ kind, result: isTesseraError(error, 'CONFLICT') ? 'stale' : 'failed' });
      this.viewAt = 0;
      if (!isTesseraError(error, 'CONFLICT'))
        this.log.warn(
          { err: error, resource: state.resource, partition: state.partition },
          'ISR proposal failed',
        );
    }
  }
}
