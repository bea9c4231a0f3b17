import { BucketQueue } from './bucket-queue';
import type { ResourceTopology } from './domains';
import { computeQuotas } from './quotas';

/** Replica slots of one resource: partition p owns slots [p·RF, p·RF + RF); -1 is an empty slot. */
export interface ReplicaLayout {
  slots: Int32Array;
  counts: Int32Array;
  quota: Int32Array;
  share: Float64Array;
  /** Replicas that could not be brought to quota (hard constraints left no room). */
  unbalanced: number;
}

/** Upper bound on candidate checks one augmenting-path search may spend. */
const SEARCH_BUDGET = 4_000_000;

/**
 * Chooses the replica nodes of every partition.
 *
 * 1. Keep what `current` already has on eligible nodes, dropping duplicates and replicas that
 *    break the spread rule (these are the only replicas that must move, with those of lost nodes).
 * 2. Compute an integer quota per node (its fair share, ±1).
 * 3. Fill empty slots from the nodes furthest below quota, preferring the fault domain furthest
 *    below its total: taking the largest remaining first keeps the rest placeable, so no quota is
 *    left stranded behind a spread constraint.
 * 4. Move replicas off nodes above quota straight onto nodes below it (one move per excess replica,
 *    which is the minimum), and when no direct move fits the spread rule, along a short chain.
 */
export function planReplicas(
  topo: ResourceTopology,
  partitions: number,
  rf: number,
  current: readonly (readonly string[])[] | undefined,
  nodeIndex: ReadonlyMap<string, number>,
  priorLoad: Float64Array,
): ReplicaLayout {
  const n = topo.nodes.length;
  const { domainOf, domainNodes, perDomainCap, localOf } = topo;
  const slots = new Int32Array(partitions * rf).fill(-1);
  const counts = new Int32Array(n);

  const inPartition = (p: number, node: number): boolean => {
    const base = p * rf;
    for (let k = 0; k < rf; k++) if (slots[base + k] === node) return true;
    return false;
  };
  /** Whether domain d may take one more replica of p, ignoring the replica at `skipPos`. */
  const domainOpen = (p: number, d: number, skipPos: number): boolean => {
    const base = p * rf;
    let used = 0;
    for (let k = 0; k < rf; k++) {
      const pos = base + k;
      const s = slots[pos]!;
      if (s >= 0 && pos !== skipPos && domainOf[s] === d) used++;
    }
    return used < perDomainCap;
  };

  // 1. Keep the valid part of the current assignment, in its order (leader first).
  if (current !== undefined) {
    const limit = Math.min(partitions, current.length);
    for (let p = 0; p < limit; p++) {
      const row = current[p]!;
      let filled = 0;
      for (let j = 0; j < row.length && filled < rf; j++) {
        const global = nodeIndex.get(row[j]!);
        if (global === undefined) continue;
        const node = localOf[global]!;
        if (node < 0 || inPartition(p, node) || !domainOpen(p, domainOf[node]!, -1)) continue;
        slots[p * rf + filled++] = node;
        counts[node]!++;
      }
    }
  }

  // 2. Targets.
  const { quota, share } = computeQuotas(topo, partitions, rf, counts, priorLoad);

  // Deficit bookkeeping: per-domain queues of nodes below quota, and domains by total deficit.
  const posInDomain = new Int32Array(n);
  const nodeQueues = domainNodes.map((members) => {
    members.forEach((node, k) => (posInDomain[node] = k));
    return new BucketQueue(members.map((node) => Math.max(0, quota[node]! - counts[node]!)));
  });
  const domainQueue = new BucketQueue(
    domainNodes.map((members) =>
      members.reduce((s, node) => s + Math.max(0, quota[node]! - counts[node]!), 0),
    ),
  );
  const adjust = (m: number, delta: number): void => {
    const d = domainOf[m]!;
    const before = Math.max(0, quota[m]! - counts[m]!);
    counts[m]! += delta;
    const after = Math.max(0, quota[m]! - counts[m]!);
    nodeQueues[d]!.set(posInDomain[m]!, after);
    domainQueue.set(d, domainQueue.key(d) + after - before);
  };
  const place = (pos: number, node: number): void => {
    const old = slots[pos]!;
    slots[pos] = node;
    if (old >= 0) adjust(old, -1);
    adjust(node, 1);
  };

  // Candidate search shared by filling and rebalancing: best node below quota that fits slot `pos`.
  let searchP = 0;
  let searchPos = 0;
  let found = -1;
  const nodeFits = (d: number) => (k: number): boolean => !inPartition(searchP, domainNodes[d]![k]!);
  const nodeVisitors = domainNodes.map((_, d) => nodeFits(d));
  const domainFits = (d: number): boolean => {
    if (!domainOpen(searchP, d, searchPos)) return false;
    const k = nodeQueues[d]!.find(nodeVisitors[d]!);
    if (k < 0) return false;
    found = domainNodes[d]![k]!;
    return true;
  };
  const bestBelowQuota = (pos: number): number => {
    searchP = Math.floor(pos / rf);
    searchPos = pos;
    found = -1;
    return domainQueue.find(domainFits) >= 0 ? found : -1;
  };

  // 3. Fill empty slots. A slot always has some fitting node (perDomainCap guarantees it); when
  // none is below quota, the least loaded fitting node takes it and step 4 evens it out.
  for (let p = 0; p < partitions; p++) {
    for (let k = 0; k < rf; k++) {
      const pos = p * rf + k;
      if (slots[pos]! >= 0) continue;
      let node = bestBelowQuota(pos);
      if (node < 0) {
        let bestLoad = Infinity;
        for (let c = 0; c < n; c++) {
          if (inPartition(p, c) || !domainOpen(p, domainOf[c]!, pos)) continue;
          const load = (counts[c]! - quota[c]!) / topo.nodes[c]!.capacity;
          if (load < bestLoad) {
            bestLoad = load;
            node = c;
          }
        }
      }
      place(pos, node);
    }
  }

  // 4. Move replicas off nodes above quota. Follower slots first: the first slot is the current
  // leader, and moving it would also move leadership.
  const positions: number[][] = Array.from({ length: n }, () => []);
  for (let pos = 0; pos < slots.length; pos++) positions[slots[pos]!]!.push(pos);
  for (let o = 0; o < n; o++) {
    for (const leaderPass of [false, true]) {
      for (const pos of positions[o]!) {
        if (counts[o]! <= quota[o]!) break;
        if (slots[pos] !== o || (pos % rf === 0) !== leaderPass) continue;
        const u = bestBelowQuota(pos);
        if (u >= 0) {
          place(pos, u);
          positions[u]!.push(pos);
        }
      }
    }
  }

  // Chains for what direct moves could not fix: o → w in one partition, w → u in another.
  let unbalanced = 0;
  for (let o = 0; o < n; o++) {
    while (counts[o]! > quota[o]!) {
      if (!augment(o)) {
        unbalanced += counts[o]! - quota[o]!;
        break;
      }
    }
  }
  return { slots, counts, quota, share, unbalanced };

  /** Breadth-first search over "x can hand a replica to y" until a node below quota is reached. */
  function augment(source: number): boolean {
    const parent = new Int32Array(n).fill(-1);
    const parentPos = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[source] = 1;
    const queue = [source];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length && budget > 0; head++) {
      const x = queue[head]!;
      for (const pos of positions[x]!) {
        if (slots[pos] !== x) continue;
        const p = Math.floor(pos / rf);
        for (let y = 0; y < n; y++) {
          if (--budget <= 0) return false;
          if (seen[y] || inPartition(p, y) || !domainOpen(p, domainOf[y]!, pos)) continue;
          seen[y] = 1;
          parent[y] = x;
          parentPos[y] = pos;
          if (counts[y]! < quota[y]!) return applyChain(y, parent, parentPos);
          queue.push(y);
        }
      }
    }
    return false;
  }

  function applyChain(end: number, parent: Int32Array, parentPos: Int32Array): boolean {
    const edges: [number, number, number][] = [];
    for (let y = end; parent[y]! >= 0; y = parent[y]!) edges.push([parentPos[y]!, parent[y]!, y]);
    const applied: [number, number][] = [];
    for (const [pos, x, y] of edges) {
      const p = Math.floor(pos / rf);
      if (slots[pos] !== x || inPartition(p, y) || !domainOpen(p, domainOf[y]!, pos)) {
        for (const [undoPos, undoNode] of applied.reverse()) place(undoPos, undoNode);
        return false;
      }
      place(pos, y);
      positions[y]!.push(pos);
      applied.push([pos, x]);
    }
    return true;
  }
}
