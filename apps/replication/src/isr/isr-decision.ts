import { type PartitionStateV1 } from '@tessera/contracts';

/** A replica's last report, as replication stored it. */
export interface ReplicaSeen {
  nodeId: string;
  role: string;
  leaderEpoch: string;
  logEndOffset: number;
  highWatermark: number | null;
  /** Milliseconds since the report. */
  ageMs: number;
}

export interface IsrPolicy {
  /** A follower silent for longer leaves the ISR. */
  maxSilenceMs: number;
  /** A follower further behind than this (at the leader's epoch) leaves the ISR. */
  maxLagRecords: number;
  /** Reports older than this are not trusted to judge anything. */
  freshMs: number;
  /**
   * A replica outside the ISR is readmitted only on a report this fresh. Its leader counts a
   * caught-up replica outside the ISR toward acks for a grace (4 s, kv-node's CATCH_UP_GRACE_MS)
   * after its last caught-up fetch, to cover the time until it hears of the expansion; a
   * readmission based on an older report (a held replica, a slow pass) could land after that
   * grace ran out, putting into the ISR a replica that lacks acknowledged writes. Reports come
   * every 2 s and at once on catching up, and this pass runs every second, so a live replica
   * always has one this fresh.
   */
  readmitFreshMs: number;
}

export const DEFAULT_ISR_POLICY: IsrPolicy = {
  maxSilenceMs: 10_000,
  maxLagRecords: 10_000,
  freshMs: 5_000,
  readmitFreshMs: 1_500,
};

/**
 * The ISR replication proposes for one partition, or null to leave it alone. Expands with
 * replicas that caught up at the leader's epoch (log end ≥ the leader's high watermark, or its
 * log end when no watermark is reported); shrinks followers that went silent or fell too far
 * behind. Never touches a partition whose leader is not reporting: then nobody can judge lag,
 * and failover (health → recovery → consensus) owns the case. Keeps the replicas' order.
 *
 * `outForMs` says, per replica outside the ISR, how long replication has known it to be out: only
 * a report younger than that readmits it. A dead node's last report was caught up and is still
 * fresh when the failover shrinks the ISR; without this rule it was readmitted at once (writes
 * then waited on it) and shrunk again only once silent — 4,000 needless changes per kill at
 * 10,000 partitions. A replica missing from `outForMs` is never readmitted.
 */
export function proposeIsr(
  state: PartitionStateV1,
  seen: ReadonlyMap<string, ReplicaSeen>,
  outForMs: ReadonlyMap<string, number>,
  policy: IsrPolicy = DEFAULT_ISR_POLICY,
): string[] | null {
  if (state.leader === null) return null;
  const leader = seen.get(state.leader);
  if (
    !leader ||
    leader.role !== 'LEADER' ||
    leader.leaderEpoch !== state.leaderEpoch ||
    leader.ageMs > policy.freshMs
  ) {
    return null;
  }
  const caughtUpTo = leader.highWatermark ?? leader.logEndOffset;
  const next = state.replicas.filter((nodeId) => {
    if (nodeId === state.leader) return true;
    const r = seen.get(nodeId);
    const inIsr = state.isr.includes(nodeId);
    if (!r) return inIsr; // not reported yet (a new partition): keep members, admit nobody
    const sameEpoch = r.leaderEpoch === state.leaderEpoch;
    if (inIsr) {
      if (r.ageMs > policy.maxSilenceMs) return false;
      if (sameEpoch && leader.logEndOffset - r.logEndOffset > policy.maxLagRecords) return false;
      return true;
    }
    const out = outForMs.get(nodeId);
    return (
      out !== undefined &&
      r.ageMs < out &&
      sameEpoch &&
      r.role === 'FOLLOWER' &&
      r.ageMs <= policy.readmitFreshMs &&
      r.logEndOffset >= caughtUpTo
    );
  });
  const same = next.length === state.isr.length && next.every((n) => state.isr.includes(n));
  return same ? null : next;
}
