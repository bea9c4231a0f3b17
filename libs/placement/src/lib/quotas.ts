import type { ResourceTopology } from './domains';

/** Snaps float noise (299.9999999) to the integer it stands for, so rounding stays exact. */
function snap(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-7 ? r : x;
}

/**
 * Shares `total` in proportion to `weights`, never giving an item more than its cap; what a capped
 * item cannot take is shared among the others (water-filling). Assumes Σ caps ≥ total.
 */
export function waterfill(
  weights: readonly number[],
  caps: readonly number[],
  total: number,
): number[] {
  const shares = new Array<number>(weights.length).fill(0);
  const open = new Set(weights.map((_, i) => i));
  let remaining = total;
  for (;;) {
    let weightSum = 0;
    for (const i of open) weightSum += weights[i];
    if (open.size === 0 || weightSum <= 0) break;
    const saturated = [...open].filter((i) => (remaining * weights[i]) / weightSum > caps[i]);
    if (saturated.length === 0) {
      for (const i of open) shares[i] = (remaining * weights[i]) / weightSum;
      break;
    }
    for (const i of saturated) {
      shares[i] = caps[i];
      remaining -= caps[i];
      open.delete(i);
    }
  }
  return shares.map(snap);
}

/** Replica targets per local node: a real fair share and the integer range around it. */
export interface Quotas {
  /** Capacity-proportional share, with spread caps applied. */
  share: Float64Array;
  /** ⌊share⌋: a node below this must gain replicas. */
  lo: Int32Array;
  /** ⌈share⌉: a node above this must shed replicas. */
  hi: Int32Array;
}

/** ⌊x⌋ and ⌈x⌉ of each share. Σ lo ≤ total ≤ Σ hi, so some assignment meets every range. */
export function rangesOf(share: Float64Array): Quotas {
  const lo = Int32Array.from(share, (x) => Math.floor(x));
  const hi = Int32Array.from(share, (x) => Math.ceil(x));
  return { share, lo, hi };
}

/**
 * Fair replica shares. Capacity-proportional, but a domain holds at most P × min(perDomainCap,
 * |domain|) (more would break spread) and a node at most P; what a capped domain or node cannot
 * take is shared among the rest (water-filling). Targets are ranges [⌊share⌋, ⌈share⌉] rather than
 * fixed integers: which nodes end on the upper bound is left to the moves, which is what lets a
 * plan starting from the assignment in force stop at the minimum number of moves.
 */
export function computeQuotas(
  topo: ResourceTopology,
  partitions: number,
  replicationFactor: number,
): Quotas {
  const total = partitions * replicationFactor;
  const domainWeights = topo.domainNodes.map((m) =>
    m.reduce((s, i) => s + topo.nodes[i].capacity, 0),
  );
  const domainCaps = topo.domainNodes.map(
    (m) => partitions * Math.min(topo.perDomainCap, m.length),
  );
  const domainShares = waterfill(domainWeights, domainCaps, total);
  const share = new Float64Array(topo.nodes.length);
  topo.domainNodes.forEach((members, d) => {
    const nodeShares = waterfill(
      members.map((i) => topo.nodes[i].capacity),
      members.map(() => partitions),
      domainShares[d],
    );
    members.forEach((i, k) => (share[i] = nodeShares[k]));
  });
  return rangesOf(share);
}

/** Preferred-leader shares: a node leads about 1/RF of the replicas it holds. */
export function leaderQuotas(replicaCounts: Int32Array, replicationFactor: number): Quotas {
  return rangesOf(Float64Array.from(replicaCounts, (c) => snap(c / replicationFactor)));
}
