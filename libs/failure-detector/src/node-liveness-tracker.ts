import { PhiAccrualDetector, type PhiAccrualOptions } from './phi-accrual-detector';

/** Liveness as health reports it; the same strings as `LivenessState` in @tessera/contracts. */
export type LivenessState = 'ALIVE' | 'SUSPECT' | 'DEAD';

export interface LivenessThresholds {
  /** ALIVE → SUSPECT when phi reaches this. */
  readonly suspectPhi: number;
  /** ALIVE/SUSPECT → DEAD when phi reaches this. */
  readonly deadPhi: number;
  /** SUSPECT → ALIVE only once phi falls below this (hysteresis: below suspectPhi, not at it). */
  readonly alivePhi: number;
  /**
   * DEAD → ALIVE only after this many heartbeats in a row without phi reaching suspectPhi, so a
   * node that flaps (or a zombie that sends one stray heartbeat) is not revived at once.
   */
  readonly reviveHeartbeats: number;
}

export const DEFAULT_LIVENESS_THRESHOLDS: LivenessThresholds = Object.freeze({
  suspectPhi: 3,
  deadPhi: 8,
  alivePhi: 1,
  reviveHeartbeats: 3,
});

export interface NodeLivenessTrackerOptions extends Partial<LivenessThresholds> {
  /** Options for the tracker's own detector. */
  readonly detector?: Partial<PhiAccrualOptions>;
}

/** A state change found by `evaluate`. `from` is null the first time a node is reported. */
export interface LivenessTransition {
  readonly nodeId: string;
  readonly from: LivenessState | null;
  readonly to: LivenessState;
  /** phi at the evaluation that caused the change (for logs). */
  readonly phi: number;
  readonly atMs: number;
}

interface TrackedNode {
  /** Last state reported through a transition; null until the first evaluate after discovery. */
  state: LivenessState | null;
  /** Heartbeats since the node was DEAD with phi staying below suspectPhi (revival streak). */
  reviveStreak: number;
}

/**
 * Maps each node's phi to ALIVE / SUSPECT / DEAD with hysteresis and reports only the changes.
 * Pure and clock-free like the detector: the caller feeds heartbeats and calls `evaluate(nowMs)`
 * on a timer, persisting and announcing each returned transition.
 */
export class NodeLivenessTracker {
  readonly detector: PhiAccrualDetector;
  readonly thresholds: LivenessThresholds;
  private readonly nodes = new Map<string, TrackedNode>();
  /** Until this time no node is judged worse than it was (see `deafen`/`hear`). */
  private judgeFromMs = Number.NEGATIVE_INFINITY;

  constructor(options: NodeLivenessTrackerOptions = {}) {
    const { detector, ...thresholds } = options;
    this.detector = new PhiAccrualDetector(detector);
    this.thresholds = Object.freeze({
      ...DEFAULT_LIVENESS_THRESHOLDS,
      ...stripUndefined(thresholds),
    });
    validateThresholds(this.thresholds);
  }

  /**
   * Starts tracking a node in a known state without reporting a transition, e.g. from the
   * persisted state when the health service restarts. An ALIVE or SUSPECT node gets a grace
   * arrival at `nowMs`, so it is declared DEAD only if no heartbeat follows; a DEAD one needs
   * `reviveHeartbeats` real heartbeats to come back.
   */
  track(nodeId: string, nowMs: number, state: LivenessState = 'ALIVE'): void {
    this.detector.remove(nodeId);
    if (state !== 'DEAD') this.detector.heartbeat(nodeId, nowMs);
    this.nodes.set(nodeId, { state, reviveStreak: 0 });
  }

  /** Records a heartbeat; an unknown node is discovered and reported by the next `evaluate`. */
  heartbeat(nodeId: string, nowMs: number): void {
    let node = this.nodes.get(nodeId);
    if (node === undefined) {
      node = { state: null, reviveStreak: 0 };
      this.nodes.set(nodeId, node);
    }
    if (node.state === 'DEAD') {
      // The silence that killed it is an outage, not a sample: a returning node starts a fresh
      // history, or one huge interval would make it nearly undetectable for a whole window.
      if (node.reviveStreak === 0) this.detector.remove(nodeId);
      node.reviveStreak++;
    }
    this.detector.heartbeat(nodeId, nowMs);
  }

  /**
   * See {@link PhiAccrualDetector.beginCatchUp}: call it when this process finds it stalled, then
   * read the heartbeats that queued meanwhile, then `endCatchUp()` and `evaluate`.
   */
  beginCatchUp(): void {
    this.detector.beginCatchUp();
  }

  endCatchUp(): void {
    this.detector.endCatchUp();
  }

  /**
   * This observer cannot hear heartbeats (its connection to their transport is down): silence
   * now proves nothing, so no node is suspected or declared dead until `hear` and its grace.
   */
  deafen(): void {
    this.judgeFromMs = Number.POSITIVE_INFINITY;
  }

  /**
   * The observer hears again at `nowMs`. Every node not DEAD is credited with an arrival now
   * (the deaf time is not its silence), and none is judged worse for `graceMs` more, the time
   * the nodes need to reconnect too. A node that died meanwhile is then DEAD at the first
   * evaluation after the grace: its silence counts from `nowMs`.
   */
  hear(nowMs: number, graceMs: number): void {
    for (const [nodeId, node] of this.nodes)
      if (node.state !== 'DEAD') this.detector.excuse(nodeId, nowMs);
    this.judgeFromMs = nowMs + Math.max(0, graceMs);
  }

  /** True between `deafen` and the end of the grace after `hear`. */
  isDeaf(nowMs: number): boolean {
    return nowMs < this.judgeFromMs;
  }

  /** Applies the thresholds at `nowMs` and returns the state changes, in tracking order. */
  evaluate(nowMs: number): LivenessTransition[] {
    const transitions: LivenessTransition[] = [];
    const deaf = this.isDeaf(nowMs);
    for (const [nodeId, node] of this.nodes) {
      const phi = this.detector.phi(nodeId, nowMs);
      // A DEAD node that falls silent again must start its revival streak over.
      if (node.state === 'DEAD' && phi >= this.thresholds.suspectPhi) node.reviveStreak = 0;
      const next = this.nextState(node, phi);
      // Deaf: only good news counts (a node heard from may still come back to ALIVE).
      if (deaf && next !== 'ALIVE') continue;
      if (next !== node.state) {
        transitions.push({ nodeId, from: node.state, to: next, phi, atMs: nowMs });
        node.state = next;
        node.reviveStreak = 0;
      }
    }
    return transitions;
  }

  /** Last reported state, undefined for an untracked node (null: discovered, not yet evaluated). */
  state(nodeId: string): LivenessState | null | undefined {
    return this.nodes.get(nodeId)?.state;
  }

  phi(nodeId: string, nowMs: number): number {
    return this.detector.phi(nodeId, nowMs);
  }

  /** Every tracked node with its reported state and current phi (for /metrics and dashboards). */
  snapshot(nowMs: number): { nodeId: string; state: LivenessState | null; phi: number }[] {
    return [...this.nodes].map(([nodeId, node]) => ({
      nodeId,
      state: node.state,
      phi: this.detector.phi(nodeId, nowMs),
    }));
  }

  /** Stops tracking a node (it left the cluster); nothing is reported for it afterwards. */
  remove(nodeId: string): void {
    this.nodes.delete(nodeId);
    this.detector.remove(nodeId);
  }

  private nextState(node: Readonly<TrackedNode>, phi: number): LivenessState {
    const { suspectPhi, deadPhi, alivePhi, reviveHeartbeats } = this.thresholds;
    switch (node.state) {
      case null:
        // First sighting: no hysteresis to apply yet.
        return phi >= deadPhi ? 'DEAD' : phi >= suspectPhi ? 'SUSPECT' : 'ALIVE';
      case 'ALIVE':
        return phi >= deadPhi ? 'DEAD' : phi >= suspectPhi ? 'SUSPECT' : 'ALIVE';
      case 'SUSPECT':
        return phi >= deadPhi ? 'DEAD' : phi < alivePhi ? 'ALIVE' : 'SUSPECT';
      case 'DEAD':
        return node.reviveStreak >= reviveHeartbeats && phi < alivePhi ? 'ALIVE' : 'DEAD';
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateThresholds(t: LivenessThresholds): void {
  if (!(
    Number.isFinite(t.alivePhi) &&
    t.alivePhi > 0 &&
    t.alivePhi <= t.suspectPhi &&
    t.suspectPhi < t.deadPhi &&
    Number.isFinite(t.deadPhi)
  )) {
    throw new RangeError(
      `liveness thresholds must satisfy 0 < alivePhi <= suspectPhi < deadPhi, got ${t.alivePhi}, ${t.suspectPhi}, ${t.deadPhi}`,
    );
  }
  if (!Number.isInteger(t.reviveHeartbeats) || t.reviveHeartbeats < 1) {
    throw new RangeError(`reviveHeartbeats must be an integer >= 1, got ${t.reviveHeartbeats}`);
  }
}
