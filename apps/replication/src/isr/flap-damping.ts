/**
 * When a replica that keeps leaving the ISR may rejoin it (RELIABILITY S10).
 *
 * A replica on a flapping link is caught up again a moment after every cut, so it was readmitted
 * each time, and each cut then took a failover shrink: on a link cut 1 s in every 2 (the S10
 * test) it left each of its ISRs 15 times a minute, each time and back a new partition epoch,
 * role commands and a map version. Route-flap damping, as BGP does it: a replica that left the
 * ISR `threshold` times within `windowMs` must stay out `baseHoldMs`, doubling with each further
 * removal up to `maxHoldMs` (6 removals in that test). Removals older than the window are
 * forgotten, so a replica that stops flapping is readmitted as before; a single failure (a
 * restart, one network partition) is never held.
 */
export interface FlapPolicy {
  windowMs: number;
  threshold: number;
  baseHoldMs: number;
  maxHoldMs: number;
}

/**
 * The cap leaves a held replica time to catch up within the 30 s in which RELIABILITY promises
 * every ISR whole again after a fault heals (S7, S21).
 */
export const DEFAULT_FLAP_POLICY: FlapPolicy = {
  windowMs: 60_000,
  threshold: 3,
  baseHoldMs: 5_000,
  maxHoldMs: 20_000,
};

/** How long a replica must stay out of the ISR after its last removal, given its removal times. */
export function readmitHoldMs(
  removals: readonly number[],
  now: number,
  policy: FlapPolicy = DEFAULT_FLAP_POLICY,
): number {
  const recent = removals.filter((t) => now - t <= policy.windowMs).length;
  if (recent < policy.threshold) return 0;
  return Math.min(policy.maxHoldMs, policy.baseHoldMs * 2 ** (recent - policy.threshold));
}

/**
 * Remembers, per partition and replica, when the replica was seen leaving the ISR. Only a
 * replica seen inside the ISR and then outside counts: a new replica (a migration's) or one
 * already out when this process started has no removal to its name.
 */
export class IsrFlapDamper {
  private readonly lastIsr = new Map<string, ReadonlySet<string>>();
  private readonly removals = new Map<string, Map<string, number[]>>();

  constructor(private readonly policy: FlapPolicy = DEFAULT_FLAP_POLICY) {}

  /**
   * Notes a partition's ISR as seen at `now`; returns the replicas that have just left it and
   * are now held out (with how long), for the caller to log.
   */
  observe(
    key: string,
    isr: readonly string[],
    replicas: readonly string[],
    now: number,
  ): { nodeId: string; holdMs: number }[] {
    const before = this.lastIsr.get(key);
    this.lastIsr.set(key, new Set(isr));
    const byNode = this.removals.get(key) ?? new Map<string, number[]>();
    const held: { nodeId: string; holdMs: number }[] = [];
    for (const [nodeId, times] of byNode) {
      const recent = times.filter((t) => now - t <= this.policy.windowMs);
      if (recent.length === 0 || !replicas.includes(nodeId)) byNode.delete(nodeId);
      else byNode.set(nodeId, recent);
    }
    for (const nodeId of before ?? []) {
      if (isr.includes(nodeId) || !replicas.includes(nodeId)) continue;
      const times = [...(byNode.get(nodeId) ?? []), now];
      byNode.set(nodeId, times);
      const holdMs = readmitHoldMs(times, now, this.policy);
      if (holdMs > 0) held.push({ nodeId, holdMs });
    }
    if (byNode.size === 0) this.removals.delete(key);
    else this.removals.set(key, byNode);
    return held;
  }

  /** How long `nodeId` must have been out of `key`'s ISR before it may rejoin, at `now`. */
  holdMs(key: string, nodeId: string, now: number): number {
    const times = this.removals.get(key)?.get(nodeId);
    return times ? readmitHoldMs(times, now, this.policy) : 0;
  }

  /** Forgets partitions no longer in the view (a deleted resource). */
  retain(keys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const key of this.lastIsr.keys()) if (!keys.has(key)) this.lastIsr.delete(key);
    for (const key of this.removals.keys()) if (!keys.has(key)) this.removals.delete(key);
  }
}
