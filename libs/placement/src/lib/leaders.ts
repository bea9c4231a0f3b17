import { computeLeaderQuotas } from './quotas';

const SEARCH_BUDGET = 4_000_000;

/**
 * Chooses the preferred leader of every partition among its replicas, as offsets 0..RF-1.
 * Keeps the current leader where it still holds a replica, then evens leader counts to a quota
 * of about 1/RF of each node's replicas: hand-offs inside a partition first, then chains
 * (x gives up p to y, y gives up p' to z …) found breadth-first.
 */
export function planLeaders(
  slots: Int32Array,
  rf: number,
  partitions: number,
  replicaCounts: Int32Array,
  currentLeader: Int32Array,
  priorLeaders: Float64Array,
): { leaderOffset: Int8Array | Int32Array; leaderCounts: Int32Array; leaderQuota: Int32Array } {
  const n = replicaCounts.length;
  const leaderOffset = rf <= 127 ? new Int8Array(partitions).fill(-1) : new Int32Array(partitions).fill(-1);
  const lc = new Int32Array(n);
  const ledBy: number[][] = Array.from({ length: n }, () => []);
  const leaderOf = (p: number): number => {
    const k = leaderOffset[p]!;
    return k < 0 ? -1 : slots[p * rf + k]!;
  };
  const setLeader = (p: number, k: number): void => {
    const old = leaderOf(p);
    if (old >= 0) lc[old]!--;
    leaderOffset[p] = k;
    const node = slots[p * rf + k]!;
    lc[node]!++;
    ledBy[node]!.push(p);
  };

  for (let p = 0; p < partitions; p++) {
    const cur = currentLeader[p]!;
    if (cur < 0) continue;
    for (let k = 0; k < rf; k++) if (slots[p * rf + k] === cur) setLeader(p, k);
  }
  const lq = computeLeaderQuotas(replicaCounts, rf, partitions, lc, priorLeaders);

  /** Offset of the replica of p furthest below its leader quota (most negative load if none). */
  const bestOffset = (p: number, exclude: number): number => {
    let best = -1;
    let bestGap = -Infinity;
    for (let k = 0; k < rf; k++) {
      const node = slots[p * rf + k]!;
      if (node === exclude) continue;
      const gap = lq[node]! - lc[node]!;
      if (gap > bestGap) {
        bestGap = gap;
        best = k;
      }
    }
    return best;
  };

  // Hand-offs inside a partition from nodes above quota to nodes below it.
  for (let p = 0; p < partitions; p++) {
    const x = leaderOf(p);
    if (x < 0 || lc[x]! <= lq[x]!) continue;
    const k = bestOffset(p, x);
    if (k >= 0 && lc[slots[p * rf + k]!]! < lq[slots[p * rf + k]!]!) setLeader(p, k);
  }
  // Leaderless partitions take the replica furthest below quota.
  for (let p = 0; p < partitions; p++) if (leaderOffset[p]! < 0) setLeader(p, bestOffset(p, -1));
  // Chains for the rest.
  for (let o = 0; o < n; o++) {
    while (lc[o]! > lq[o]! && augment(o));
  }
  return { leaderOffset, leaderCounts: lc, leaderQuota: lq };

  function augment(source: number): boolean {
    const parent = new Int32Array(n).fill(-1);
    const parentPartition = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[source] = 1;
    const queue = [source];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head]!;
      for (const p of ledBy[x]!) {
        if (leaderOf(p) !== x) continue;
        for (let k = 0; k < rf; k++) {
          if (--budget <= 0) return false;
          const y = slots[p * rf + k]!;
          if (seen[y]) continue;
          seen[y] = 1;
          parent[y] = x;
          parentPartition[y] = p;
          if (lc[y]! < lq[y]!) {
            // Walk back: each partition on the path passes leadership one step along.
            for (let z = y; parent[z]! >= 0; z = parent[z]!) {
              const q = parentPartition[z]!;
              for (let j = 0; j < rf; j++) if (slots[q * rf + j] === z) setLeader(q, j);
            }
            return true;
          }
          queue.push(y);
        }
      }
    }
    return false;
  }
}
