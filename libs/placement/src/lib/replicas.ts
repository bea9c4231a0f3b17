import { BucketQueue } from './bucket-queue';
import type { ResourceTopology } from './domains';
import { computeQuotas } from './quotas';

/** Replica slots of one resource: partition p owns slots [p·RF, p·RF + RF); -1 is an empty slot. */
export interface ReplicaLayout {
  slots: Int32Array;
  counts: Int32Array;
  share: Float64Array;
  lo: Int32Array;
  hi: Int32Array;
  /** Partitions whose first slot holds the leader in force (kept from `current`). */
  leaderKept: Uint8Array;
  /** Replicas still outside their node's [lo, hi] range (placement rules left no room). */
  unbalanced: number;
}

/** Upper bound on candidate checks one chain search may spend. */
const SEARCH_BUDGET = 2_000_000;

/**
 * Chooses the replica nodes of every partition.
 *
 * 1. Keep what `current` already has on eligible nodes, dropping duplicates and replicas that
 *    break the spread rule (these, and replicas of lost nodes, must move whatever we do).
 * 2. Each node gets a target range [⌊share⌋, ⌈share⌉] of its capacity-proportional share.
 * 3. Fill empty slots from the nodes furthest below target, preferring the fault domain furthest
 *    below: taking the largest remaining need first keeps the rest placeable under spread rules.
 * 4. Nodes above ⌈share⌉ hand replicas straight to nodes below it; nodes below ⌊share⌋ take one
 *    each from nodes above theirs. One move per replica out of range is the minimum possible.
 *    When the spread rule blocks every direct move, a short chain (x → y in one partition,
 *    y → z in another) is used instead.
 * Moves carry leadership when it helps: a node that gains replicas takes a leader slot for about
 * one replica in RF, from a node that can spare one, so few leaderships move on their own later.
 */
export function planReplicas(
  topo: ResourceTopology,
  partitions: number,
  rf: number,
  current: readonly (readonly string[])[] | undefined,
  nodeIndex: ReadonlyMap<string, number>,
): ReplicaLayout {
  const n = topo.nodes.length;
  const { domainOf, domainNodes, perDomainCap, localOf } = topo;
  const slots = new Int32Array(partitions * rf).fill(-1);
  const counts = new Int32Array(n);
  const leaderKept = new Uint8Array(partitions);
  // Slot positions per node, built only when some node needs rebalancing, then appended to as
  // nodes gain slots. Entries go stale when a node loses a slot, so readers check slots[pos].
  let lists: number[][] | undefined;
  const positionsOf = (x: number): number[] => {
    if (lists === undefined) {
      const built: number[][] = Array.from({ length: n }, () => []);
      for (let pos = 0; pos < slots.length; pos++) built[slots[pos]].push(pos);
      lists = built;
    }
    return lists[x];
  };
  /** Slots filled by this plan rather than kept: re-pointing them again costs no extra move. */
  const fresh = new Uint8Array(partitions * rf);
  const freshPositions: number[] = [];
  /** Partitions whose kept leader slot each node holds. */
  const leads = new Int32Array(n);

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
      const s = slots[pos];
      if (s >= 0 && pos !== skipPos && domainOf[s] === d) used++;
    }
    return used < perDomainCap;
  };
  const fits = (node: number, pos: number): boolean => {
    const p = (pos / rf) | 0;
    return !inPartition(p, node) && domainOpen(p, domainOf[node], pos);
  };
  const isLeaderPos = (pos: number): boolean => pos % rf === 0 && leaderKept[(pos / rf) | 0] === 1;

  // 1. Keep the valid part of the current assignment, in its order (leader first).
  if (current !== undefined) {
    const limit = Math.min(partitions, current.length);
    for (let p = 0; p < limit; p++) {
      const row = current[p];
      let filled = 0;
      for (let j = 0; j < row.length && filled < rf; j++) {
        const global = nodeIndex.get(row[j]);
        if (global === undefined) continue;
        const node = localOf[global];
        if (node < 0 || inPartition(p, node) || !domainOpen(p, domainOf[node], -1)) continue;
        if (j === 0) {
          leaderKept[p] = 1;
          leads[node]++;
        }
        slots[p * rf + filled++] = node;
        counts[node]++;
      }
    }
  }

  // 2. Targets.
  const { share, lo, hi } = computeQuotas(topo, partitions, rf);

  // Need bookkeeping: per-domain queues of nodes below ⌈share⌉, keyed so that nodes below
  // ⌊share⌋ come first, and domains keyed by their members' total need.
  const need = (m: number): number =>
    Math.max(0, hi[m] - counts[m]) + Math.max(0, lo[m] - counts[m]);
  const posInDomain = new Int32Array(n);
  const nodeQueues = domainNodes.map((members) => {
    members.forEach((node, k) => (posInDomain[node] = k));
    return new BucketQueue(members.map(need));
  });
  const domainQueue = new BucketQueue(
    domainNodes.map((members) => members.reduce((s, m) => s + need(m), 0)),
  );
  const adjust = (m: number, delta: number): void => {
    const d = domainOf[m];
    const before = need(m);
    counts[m] += delta;
    const after = need(m);
    nodeQueues[d].set(posInDomain[m], after);
    domainQueue.set(d, domainQueue.key(d) + after - before);
  };
  const place = (pos: number, node: number): void => {
    const old = slots[pos];
    slots[pos] = node;
    if (old >= 0) adjust(old, -1);
    adjust(node, 1);
    if (isLeaderPos(pos)) {
      if (old >= 0) leads[old]--;
      leads[node]++;
    }
    lists?.[node].push(pos);
  };
  // Leadership travels with a move when the giver keeps its share of leaders and the taker
  // is short of about one leader per RF replicas.
  const canGiveLeader = (x: number): boolean => leads[x] - 1 >= Math.floor((counts[x] - 1) / rf);
  const wantsLeader = (y: number): boolean => leads[y] < Math.ceil((counts[y] + 1) / rf);

  // Candidate search: the neediest node that fits slot `pos` (and, for a leader slot, wants one).
  let searchPos = 0;
  let leaderSlot = false;
  let found = -1;
  const nodeVisitors = domainNodes.map((members) => (k: number): boolean => {
    const m = members[k];
    return !inPartition((searchPos / rf) | 0, m) && (!leaderSlot || wantsLeader(m));
  });
  const domainFits = (d: number): boolean => {
    if (!domainOpen((searchPos / rf) | 0, d, searchPos)) return false;
    const k = nodeQueues[d].find(nodeVisitors[d]);
    if (k < 0) return false;
    found = domainNodes[d][k];
    return true;
  };
  const neediestFor = (pos: number, forLeader: boolean): number => {
    searchPos = pos;
    leaderSlot = forLeader;
    found = -1;
    return domainQueue.find(domainFits) >= 0 ? found : -1;
  };

  // 3. Fill empty slots. Some fitting node always exists (perDomainCap guarantees it); when none
  // is below target, the least loaded fitting node takes the slot and step 4 evens it out.
  for (let p = 0; p < partitions; p++) {
    for (let k = 0; k < rf; k++) {
      const pos = p * rf + k;
      if (slots[pos] >= 0) continue;
      let node = neediestFor(pos, false);
      if (node < 0) {
        let bestLoad = Infinity;
        for (let c = 0; c < n; c++) {
          const load = (counts[c] - share[c]) / topo.nodes[c].capacity;
          if (load < bestLoad && fits(c, pos)) {
            bestLoad = load;
            node = c;
          }
        }
      }
      place(pos, node);
      fresh[pos] = 1;
      freshPositions.push(pos);
    }
  }

  // 4. First re-point slots this plan filled itself (free), then move kept replicas.
  if (freshPositions.length > 0) {
    for (let o = 0; o < n; o++) while (counts[o] > hi[o] && shedAlongChain(o, true));
    for (let u = 0; u < n; u++) while (counts[u] < lo[u] && gainAlongChain(u, true));
  }

  // 4a. Nodes above ⌈share⌉ give replicas to the neediest node that fits.
  for (let o = 0; o < n; o++) {
    if (counts[o] <= hi[o]) continue;
    for (const leaderPass of [true, false]) {
      for (const pos of positionsOf(o)) {
        if (counts[o] <= hi[o]) break;
        if (slots[pos] !== o || isLeaderPos(pos) !== leaderPass) continue;
        if (leaderPass && !canGiveLeader(o)) break;
        const u = neediestFor(pos, leaderPass);
        if (u >= 0) place(pos, u);
        // No taker wants a leader slot: searching the other leader slots would scan all nodes
        // again for nothing.
        else if (leaderPass) break;
      }
    }
  }

  // 4b. Nodes below ⌊share⌋ take one replica from each node that can spare one, in turn, so the
  // donors are many different nodes rather than a few.
  let donorCursor = 0;
  for (let u = 0; u < n; u++) {
    let idle = 0;
    while (counts[u] < lo[u] && idle < n) {
      const x = donorCursor;
      donorCursor = (donorCursor + 1) % n;
      idle++;
      if (x === u || counts[x] <= lo[x]) continue;
      const preferLeader = wantsLeader(u) && canGiveLeader(x);
      let taken = false;
      for (const leaderPass of preferLeader ? [true, false] : [false]) {
        for (const pos of positionsOf(x)) {
          if (slots[pos] !== x || isLeaderPos(pos) !== leaderPass || !fits(u, pos)) continue;
          place(pos, u);
          taken = true;
          break;
        }
        if (taken) break;
      }
      if (taken) idle = 0;
    }
  }

  // 4c. Chains for whatever direct moves could not fix.
  let unbalanced = 0;
  for (let o = 0; o < n; o++) {
    while (counts[o] > hi[o] && shedAlongChain(o, false));
  }
  for (let u = 0; u < n; u++) {
    while (counts[u] < lo[u] && gainAlongChain(u, false));
  }
  for (let m = 0; m < n; m++) {
    unbalanced += Math.max(0, counts[m] - hi[m]) + Math.max(0, lo[m] - counts[m]);
  }
  return { slots, counts, share, lo, hi, leaderKept, unbalanced };

  /** Breadth-first over "x can hand its replica at pos to y" until a node below ⌈share⌉. */
  function shedAlongChain(source: number, freshOnly: boolean): boolean {
    const parent = new Int32Array(n).fill(-1);
    const parentPos = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[source] = 1;
    const queue = [source];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head];
      for (const pos of positionsOf(x)) {
        if (slots[pos] !== x || (freshOnly && fresh[pos] === 0)) continue;
        for (let y = 0; y < n; y++) {
          if (--budget <= 0) return false;
          if (seen[y] || !fits(y, pos)) continue;
          seen[y] = 1;
          parent[y] = x;
          parentPos[y] = pos;
          if (counts[y] < hi[y]) return applyChain(y, parent, parentPos);
          queue.push(y);
        }
      }
    }
    return false;
  }

  /** Breadth-first over "y can take x's replica at pos" until a node above ⌊share⌋ gives one. */
  function gainAlongChain(sink: number, freshOnly: boolean): boolean {
    // parent[x] = the node that takes x's replica at parentPos[x]; applied from the giver end.
    const taker = new Int32Array(n).fill(-1);
    const takerPos = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    seen[sink] = 1;
    const queue = [sink];
    let budget = SEARCH_BUDGET;
    for (let head = 0; head < queue.length; head++) {
      const y = queue[head];
      const scan = freshOnly ? freshPositions.length : slots.length;
      for (let i = 0; i < scan; i++) {
        if (--budget <= 0) return false;
        const pos = freshOnly ? freshPositions[i] : i;
        const x = slots[pos];
        if (seen[x] || !fits(y, pos)) continue;
        seen[x] = 1;
        taker[x] = y;
        takerPos[x] = pos;
        if (counts[x] > lo[x]) {
          for (let z = x; taker[z] >= 0; z = taker[z]) {
            if (slots[takerPos[z]] !== z || !fits(taker[z], takerPos[z])) return false;
            place(takerPos[z], taker[z]);
          }
          return true;
        }
        queue.push(x);
      }
    }
    return false;
  }

  function applyChain(end: number, parent: Int32Array, parentPos: Int32Array): boolean {
    const edges: [number, number, number][] = [];
    for (let y = end; parent[y] >= 0; y = parent[y]) edges.push([parentPos[y], parent[y], y]);
    const applied: [number, number][] = [];
    for (const [pos, x, y] of edges) {
      if (slots[pos] !== x || !fits(y, pos)) {
        for (const [undoPos, undoNode] of applied.reverse()) place(undoPos, undoNode);
        return false;
      }
      place(pos, y);
      applied.push([pos, x]);
    }
    return true;
  }
}
