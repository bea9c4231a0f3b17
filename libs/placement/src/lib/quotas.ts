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
export function waterfill(weights: readonly number[], caps: readonly number[], total: number): number[] {
  const shares = new Array<number>(weights.length).fill(0);
  const open = new Set(weights.map((_, i) => i));
  let remaining = total;
  for (;;) {
    let weightSum = 0;
    for (const i of open) weightSum += weights[i]!;
    if (open.size === 0 || weightSum <= 0) break;
    const saturated = [...open].filter((i) => (remaining * weights[i]!) / weightSum > caps[i]!);
    if (saturated.length === 0) {
      for (const i of open) shares[i] = (remaining * weights[i]!) / weightSum;
      break;
    }
    for (const i of saturated) {
      shares[i] = caps[i]!;
      remaining -= caps[i]!;
      open.delete(i);
    }
  }
  return shares.map(snap);
}

export interface Quotas {
  /** Integer target per local node; Σ = partitions × RF. */
  quota: Int32Array;
  /** Real-valued fair share per local node (capacity-proportional, spread caps applied). */
  share: Float64Array;
}

/** Picks `count` items from `candidates`, best first by `better` (a strict, total order). */
function pickBest(candidates: number[], count: number, better: (a: number, b: number) => number): number[] {
  return candidates.sort(better).slice(0, Math.max(0, count));
}

/**
 * Integer replica targets per node. Real shares are capacity-proportional, capped per domain at
 * P × min(perDomainCap, |domain|) (a domain cannot hold more without breaking spread) and per node
 * at P. Rounding is controlled: every node gets ⌊share⌋ or ⌈share⌉ and every domain ⌊Σ⌋ or ⌈Σ⌉,
 * so the domain totals stay placeable. Where rounding has a choice, nodes already holding more
 * replicas get the extra one (fewer moves), then nodes lightly loaded by earlier resources.
 */
export function computeQuotas(
  topo: ResourceTopology,
  partitions: number,
  replicationFactor: number,
  currentCounts: Int32Array,
  priorLoad: Float64Array,
): Quotas {
  const n = topo.nodes.length;
  const total = partitions * replicationFactor;
  const domainWeights = topo.domainNodes.map((m) => m.reduce((s, i) => s + topo.nodes[i]!.capacity, 0));
  const domainCaps = topo.domainNodes.map((m) => partitions * Math.min(topo.perDomainCap, m.length));
  const domainShares = waterfill(domainWeights, domainCaps, total);

  const share = new Float64Array(n);
  topo.domainNodes.forEach((members, d) => {
    const nodeShares = waterfill(
      members.map((i) => topo.nodes[i]!.capacity),
      members.map(() => partitions),
      domainShares[d]!,
    );
    members.forEach((i, k) => (share[i] = nodeShares[k]!));
  });

  const quota = new Int32Array(n);
  for (let i = 0; i < n; i++) quota[i] = Math.floor(share[i]!);

  // Domain totals first: ⌊F⌋ each, then +1 for the domains best placed to take one.
  const domainShare = topo.domainNodes.map((m) => snap(m.reduce((s, i) => s + share[i]!, 0)));
  const domainFloor = domainShare.map(Math.floor);
  const domainTotal = topo.domainNodes.map((m) => m.reduce((s, i) => s + quota[i]!, 0));
  const domainCurrent = topo.domainNodes.map((m) => m.reduce((s, i) => s + currentCounts[i]!, 0));
  const domainFrac = topo.domainNodes.map((m) => m.filter((i) => share[i]! > quota[i]!).length);
  let missing = total - domainFloor.reduce((s, x) => s + x, 0);
  const domainTarget = [...domainFloor];
  const byDomainPreference = (a: number, b: number): number =>
    domainCurrent[b]! - domainFloor[b]! - (domainCurrent[a]! - domainFloor[a]!) || a - b;
  const domains = topo.domainNodes.map((_, d) => d);
  const roomy = (d: number): boolean =>
    domainTarget[d]! < domainTotal[d]! + domainFrac[d]! && domainTarget[d]! < domainCaps[d]!;
  const fractionalDomains = domains.filter((d) => domainShare[d]! > domainFloor[d]! && roomy(d));
  for (const d of pickBest(fractionalDomains, missing, byDomainPreference)) {
    domainTarget[d]!++;
    missing--;
  }
  // Only float noise gets here: widen to any domain that can still take one.
  for (const d of pickBest(domains.filter(roomy), missing, byDomainPreference)) {
    domainTarget[d]!++;
    missing--;
  }

  const byNodePreference = (a: number, b: number): number =>
    currentCounts[b]! - currentCounts[a]! ||
    priorLoad[a]! / topo.nodes[a]!.capacity - priorLoad[b]! / topo.nodes[b]!.capacity ||
    share[b]! - quota[b]! - (share[a]! - quota[a]!) ||
    a - b;
  topo.domainNodes.forEach((members, d) => {
    const need = domainTarget[d]! - domainTotal[d]!;
    const fractional = members.filter((i) => share[i]! > quota[i]!);
    for (const i of pickBest(fractional, need, byNodePreference)) quota[i]!++;
  });

  // Float safety net: if the sum is still off, adjust the best candidates by one.
  let sum = quota.reduce((s, x) => s + x, 0);
  const all = [...Array(n).keys()];
  while (sum < total) {
    const i = all.filter((k) => quota[k]! < partitions).sort(byNodePreference)[0]!;
    quota[i]!++;
    sum++;
  }
  while (sum > total) {
    const i = all.filter((k) => quota[k]! > 0).sort(byNodePreference).at(-1)!;
    quota[i]!--;
    sum--;
  }
  return { quota, share };
}

/**
 * Preferred-leader targets: each node leads about 1/RF of the replicas it holds, rounded so the
 * total is the partition count; ties go to nodes already leading more (fewer leader moves).
 */
export function computeLeaderQuotas(
  replicaCounts: Int32Array,
  replicationFactor: number,
  partitions: number,
  currentLeaders: Int32Array,
  priorLeaders: Float64Array,
): Int32Array {
  const n = replicaCounts.length;
  const quota = new Int32Array(n);
  const frac = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const share = snap(replicaCounts[i]! / replicationFactor);
    quota[i] = Math.floor(share);
    frac[i] = share - quota[i]!;
    sum += quota[i]!;
  }
  const order = [...Array(n).keys()].sort(
    (a, b) =>
      currentLeaders[b]! - currentLeaders[a]! ||
      priorLeaders[a]! - priorLeaders[b]! ||
      frac[b]! - frac[a]! ||
      a - b,
  );
  for (const i of order) {
    if (sum >= partitions) break;
    if (frac[i]! > 0) {
      quota[i]!++;
      sum++;
    }
  }
  // Rounding can leave a gap only through float noise; close it on nodes that hold replicas.
  for (const i of order) {
    if (sum >= partitions) break;
    if (replicaCounts[i]! > quota[i]!) {
      quota[i]!++;
      sum++;
    }
  }
  return quota;
}
