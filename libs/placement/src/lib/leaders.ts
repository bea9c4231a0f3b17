import { leaderQuotas } from './quotas';

const SEARCH_BUDGET = 2_000_000;

export interface LeaderLayout {
  /** Per partition, the slot offset (0..RF-1) of the preferred leader. */
  leaderOffset: Int32Array;
  leaderCounts: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
}

/**
 * Chooses the preferred leader of every partition among its replicas. Each node should lead
 * between ⌊c/RF⌋ and ⌈c/RF⌉ partitions, c being the replicas it holds. The leader in force stays
 * wherever that range allows; otherwise leadership moves inside the partition, or along a chain
 * (x gives p to y, y gives p' to z …) found breadth-first, each link one leadership move.
 */
export function planLeaders(
  slots: Int32Array,
  rf: number,
  partitions: number,
  replicaCounts: Int32Array,
  leaderKept: Uint8Array,
  currentLeader: Int32Array,
): LeaderLayout {
  const n = replicaCounts.length;
  const { lo, hi } = leaderQuotas(replicaCounts, rf);
  const leaderOffset = new Int32Array(partitions).fill(-1);
  const lc = new Int32Array(n);
  // Partitions each node holds a replica of, as compressed rows (one typed array, no per-node lists).
  const start = new Int32Array(n + 1);
  for (let pos = 0; pos < slots.length; pos++) start[slots[pos] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const member = new Int32Array(slots.length);
  const fill = start.slice(0, n);
  for (let pos = 0; pos < slots.length; pos++) member[fill[slots[pos]]++] = (pos / rf) | 0;

  const leaderOf = (p: number): number => {
    const k = leaderOffset[p];
    return k < 0 ? -1 : slots[p * rf + k];
  };
  const setLeader = (p: number, k: number): void => {
    const old = leaderOf(p);
    if (old >= 0) lc[old]--;
    leaderOffset[p] = k;
    const node = slots[p * rf + k];
    lc[node]++;
  };
  const offsetOf = (p: number, node: number): number => {
    for (let k = 0; k < rf; k++) if (slots[p * rf + k] === node) return k;
    return -1;
  };
  /** How much a node wants one more leadership: below ⌊share⌋ counts double. */
  const need = (m: number): number => Math.max(0, hi[m] - lc[m]) + Math.max(0, lo[m] - lc[m]);
  const neediest = (p: number, exclude: number): number => {
    let best = -1;
    let bestNeed = -1;
    let bestLoad = Infinity;
    for (let k = 0; k < rf; k++) {
      const m = slots[p * rf + k];
      if (m === exclude) continue;
      const load = lc[m] - hi[m];
      if (need(m) > bestNeed || (need(m) === bestNeed && load < bestLoad)) {
        best = k;
        bestNeed = need(m);
        bestLoad = load;
      }
    }
    return best;
  };

  // The leader in force (slot 0 when kept, possibly the node that took its slot) stays first.
  for (let p = 0; p < partitions; p++) if (leaderKept[p] === 1) setLeader(p, 0);
  // Nodes above ⌈share⌉ hand leadership to a replica of the same partition that wants it.
  for (let p = 0; p < partitions; p++) {
    const x = leaderOf(p);
    if (x < 0 || lc[x] <= hi[x]) continue;
    const k = neediest(p, x);
    if (k >= 0 && need(slots[p * rf + k]) > 0) setLeader(p, k);
  }
  // Leaderless partitions take their neediest replica.
  for (let p = 0; p < partitions; p++) if (leaderOffset[p] < 0) setLeader(p, neediest(p, -1));
  // Chains: first through partitions whose leader changes anyway (free), then any.
  for (const freeOnly of [true, false]) {
    for (let o = 0; o < n; o++) while (lc[o] > hi[o] && shed(o, freeOnly));
    for (let u = 0; u < n; u++) while (lc[u] < lo[u] && gain(u, freeOnly));
  }
  return { leaderOffset, leaderCounts: lc, lo, hi };

  /** x → y → … until a node below ⌈share⌉; each step passes one partition's leadership on. */
  function shed(source: number, freeOnly: boolean): boolean {
    const parent = new Int32Array(n).fill(-1);
    const via = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[source] = 1;
    const queue = [source];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head];
      for (let j = start[x]; j < start[x + 1]; j++) {
        const p = member[j];
        if (leaderOf(p) !== x || (freeOnly && currentLeader[p] === x)) continue;
        for (let k = 0; k < rf; k++) {
          if (--budget <= 0) return false;
          const y = slots[p * rf + k];
          if (seen[y]) continue;
          seen[y] = 1;
          parent[y] = x;
          via[y] = p;
          if (lc[y] < hi[y]) {
            for (let z = y; parent[z] >= 0; z = parent[z]) setLeader(via[z], offsetOf(via[z], z));
            return true;
          }
          queue.push(y);
        }
      }
    }
    return false;
  }

  /** u takes p from x; if x then falls below ⌊share⌋ it takes from its own partitions, and so on. */
  function gain(sink: number, freeOnly: boolean): boolean {
    const taker = new Int32Array(n).fill(-1);
    const via = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[sink] = 1;
    const queue = [sink];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length; head++) {
      const y = queue[head];
      for (let j = start[y]; j < start[y + 1]; j++) {
        const p = member[j];
        if (--budget <= 0) return false;
        const x = leaderOf(p);
        if (x < 0 || seen[x] || (freeOnly && currentLeader[p] === x)) continue;
        seen[x] = 1;
        taker[x] = y;
        via[x] = p;
        if (lc[x] > lo[x]) {
          for (let z = x; taker[z] >= 0; z = taker[z])
            setLeader(via[z], offsetOf(via[z], taker[z]));
          return true;
        }
        queue.push(x);
      }
    }
    return false;
  }
}
