import { IntervalWindow } from './interval-window';

/**
 * Tuning of the phi-accrual detector. Times are milliseconds on whatever monotonic clock the
 * caller uses (e.g. `performance.now()`); the detector never reads a clock itself.
 */
export interface PhiAccrualOptions {
  /** Heartbeat interval assumed before a node has real samples (bootstraps its window). */
  readonly firstHeartbeatEstimateMs: number;
  /** Inter-arrival samples kept per node (the sliding window). */
  readonly maxSampleSize: number;
  /** Floor for the window's std-dev, so near-perfectly regular heartbeats don't make phi explode. */
  readonly minStdDeviationMs: number;
  /** Silence tolerated on top of the mean before phi starts to climb (GC, scheduling, network). */
  readonly acceptableHeartbeatPauseMs: number;
  /** Longer intervals are not sampled: they are outages or restarts, not the arrival process. */
  readonly maxSampleIntervalMs: number;
}

/**
 * Defaults for heartbeats every 200 ms. With a steady window (std-dev below the 100 ms floor),
 * phi = 3 at ≈ 760 ms of silence and phi = 8 at ≈ 975 ms, so with the tracker's defaults and a
 * 50 ms evaluation tick a SIGKILLed node is DEAD ≤ 1.03 s after its last heartbeat. The bound
 * stays ≤ 1.5 s while the observed jitter std-dev stays under ≈ 180 ms (see README).
 */
export const DEFAULT_PHI_ACCRUAL_OPTIONS: PhiAccrualOptions = Object.freeze({
  firstHeartbeatEstimateMs: 200,
  maxSampleSize: 200,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 250,
  maxSampleIntervalMs: 2_000,
});

interface NodeHistory {
  readonly intervals: IntervalWindow;
  lastArrivalMs: number;
  /** The next interval touches a stall of ours (see beginCatchUp): not a real sample. */
  skipNextInterval: boolean;
}

/**
 * Phi-accrual failure detector (Hayashibara et al. 2004, as in Akka and Cassandra).
 *
 * Instead of a yes/no timeout it reports phi = −log10(P(a heartbeat arrives later than now)),
 * using the distribution of each node's recent inter-arrival times. phi = 1 means a 10 % chance
 * that declaring the node dead now is a mistake, phi = 8 a 10⁻⁸ chance. Because the distribution
 * is learnt per node, a node with jittery heartbeats gets more slack than a steady one.
 *
 * Distribution: normal, via Akka's logistic approximation of its CDF. Heartbeats on a LAN arrive
 * almost periodically, which the normal model captures (tight mean, small std-dev); the
 * exponential model Cassandra uses ignores variance — phi = Δt / mean · log10 e — so with 200 ms
 * heartbeats it reaches 8 only after 3.7 s and never adapts to jitter. The logistic form is cheap,
 * strictly increasing, and evaluated here in log space so phi stays finite however long the silence.
 */
export class PhiAccrualDetector {
  readonly options: PhiAccrualOptions;
  private readonly nodes = new Map<string, NodeHistory>();
  private catchingUp = false;

  constructor(options: Partial<PhiAccrualOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_PHI_ACCRUAL_OPTIONS, ...options });
    validateOptions(this.options);
  }

  /** Records a heartbeat from `nodeId` received at `nowMs`. */
  heartbeat(nodeId: string, nowMs: number): void {
    assertFinite('nowMs', nowMs);
    const history = this.nodes.get(nodeId);
    if (history === undefined) {
      this.nodes.set(nodeId, this.bootstrap(nowMs));
      return;
    }
    const interval = nowMs - history.lastArrivalMs;
    // Negative intervals (clock misuse) carry no information.
    if (
      !history.skipNextInterval &&
      interval >= 0 &&
      interval <= this.options.maxSampleIntervalMs
    ) {
      history.intervals.add(interval);
    }
    // A heartbeat read during a catch-up was read late: the interval after it is not real either.
    history.skipNextInterval = this.catchingUp;
    history.lastArrivalMs = nowMs;
  }

  /** Suspicion level of `nodeId` at `nowMs`: ≥ 0, finite, non-decreasing while the node is silent. 0 for unknown nodes. */
  phi(nodeId: string, nowMs: number): number {
    assertFinite('nowMs', nowMs);
    const history = this.nodes.get(nodeId);
    if (history === undefined) return 0;
    const elapsed = Math.max(0, nowMs - history.lastArrivalMs);
    const mean = history.intervals.mean + this.options.acceptableHeartbeatPauseMs;
    const stdDeviation = Math.max(history.intervals.stdDeviation, this.options.minStdDeviationMs);
    return phiOf(elapsed, mean, stdDeviation);
  }

  /**
   * The caller's process stalled (event-loop lag, GC, CPU starvation, SIGSTOP): heartbeats that
   * arrived meanwhile sit unread in its socket and are about to be read late, in a burst. Until
   * `endCatchUp`, heartbeats still count as arrivals (at the time they are read) but no interval
   * touching the stall is sampled, so one stall neither inflates nor collapses the window.
   *
   * The stall itself is not held against anyone as long as the caller evaluates phi only after it
   * has read what queued up (then calls `endCatchUp`): a live node's late-read heartbeat is an
   * arrival at the time it is read, while a node that really fell silent gets no credit — its
   * silence is measured from its real last heartbeat, so a stall never delays its detection.
   */
  beginCatchUp(): void {
    this.catchingUp = true;
    for (const history of this.nodes.values()) history.skipNextInterval = true;
  }

  /** The heartbeats that queued during the stall have been read (see beginCatchUp). */
  endCatchUp(): void {
    this.catchingUp = false;
  }

  /**
   * Counts `nowMs` as the node's last arrival without sampling an interval (nor the next one):
   * the caller could not hear anyone until now (its link to the heartbeats was down), so the
   * node's silence so far says nothing about it. No-op for an unknown node.
   */
  excuse(nodeId: string, nowMs: number): void {
    assertFinite('nowMs', nowMs);
    const history = this.nodes.get(nodeId);
    if (history === undefined) return;
    history.lastArrivalMs = Math.max(history.lastArrivalMs, nowMs);
    history.skipNextInterval = true;
  }

  /** Forgets a node; its next heartbeat bootstraps a fresh history. */
  remove(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  /** Window statistics of a node (for metrics and debugging). */
  stats(
    nodeId: string,
  ):
    { samples: number; meanMs: number; stdDeviationMs: number; lastArrivalMs: number } | undefined {
    const history = this.nodes.get(nodeId);
    if (history === undefined) return undefined;
    return {
      samples: history.intervals.size,
      meanMs: history.intervals.mean,
      stdDeviationMs: history.intervals.stdDeviation,
      lastArrivalMs: history.lastArrivalMs,
    };
  }

  /**
   * A first heartbeat gives no interval yet, so the window is seeded as Akka does: two samples
   * at estimate ± estimate/4 (mean = estimate, std-dev = estimate/4). Real samples replace them.
   */
  private bootstrap(nowMs: number): NodeHistory {
    const intervals = new IntervalWindow(this.options.maxSampleSize);
    const estimate = this.options.firstHeartbeatEstimateMs;
    intervals.add(estimate - estimate / 4);
    intervals.add(estimate + estimate / 4);
    return { intervals, lastArrivalMs: nowMs, skipNextInterval: this.catchingUp };
  }
}

/**
 * phi for `elapsedMs` of silence given the arrival distribution N(mean, stdDeviation²).
 * Akka's approximation P(X > t) ≈ 1 / (1 + e^k), k = y(1.5976 + 0.070566 y²), y = (t − mean)/σ,
 * so phi = log10(1 + e^k), written as softplus(k) / ln 10 to avoid overflow for large k.
 */
export function phiOf(elapsedMs: number, meanMs: number, stdDeviationMs: number): number {
  const y = (elapsedMs - meanMs) / stdDeviationMs;
  const k = y * (1.5976 + 0.070566 * y * y);
  return (Math.max(k, 0) + Math.log1p(Math.exp(-Math.abs(k)))) / Math.LN10;
}

function validateOptions(o: PhiAccrualOptions): void {
  const positive: (keyof PhiAccrualOptions)[] = [
    'firstHeartbeatEstimateMs',
    'minStdDeviationMs',
    'maxSampleIntervalMs',
  ];
  for (const key of positive) {
    if (!Number.isFinite(o[key]) || o[key] <= 0)
      throw new RangeError(`${key} must be a positive number, got ${o[key]}`);
  }
  if (!Number.isFinite(o.acceptableHeartbeatPauseMs) || o.acceptableHeartbeatPauseMs < 0) {
    throw new RangeError(
      `acceptableHeartbeatPauseMs must be >= 0, got ${o.acceptableHeartbeatPauseMs}`,
    );
  }
  if (!Number.isInteger(o.maxSampleSize) || o.maxSampleSize < 2) {
    throw new RangeError(`maxSampleSize must be an integer >= 2, got ${o.maxSampleSize}`);
  }
}

function assertFinite(name: string, value: number): void {
  if (!Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number, got ${value}`);
}
