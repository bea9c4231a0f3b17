import HashRing from 'hashring';
import { x86 } from 'murmurhash3js-revisited';
import type { PlacementNode } from '../../../libs/placement/src';

/** A stateless placement function: the whole assignment from the node list alone. */
export interface Baseline {
  name: string;
  place(nodes: PlacementNode[], resource: string, partitions: number, rf: number): string[][];
}

const encoder = new TextEncoder();
const hash32 = (key: string): number => x86.hash32(encoder.encode(key)) >>> 0;

/** murmur3's 32-bit finalizer: mixes a partition hash with a node hash into a fresh stable hash. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Walks candidates in preference order, taking RF nodes in distinct zones (then any, if short). */
function pickSpread(order: Iterable<number>, nodes: PlacementNode[], rf: number): string[] {
  const picked: number[] = [];
  const zones = new Set<string | undefined>();
  const skipped: number[] = [];
  for (const i of order) {
    if (picked.includes(i) || skipped.includes(i)) continue;
    const zone = nodes[i].zone;
    if (zones.has(zone)) {
      skipped.push(i);
      continue;
    }
    zones.add(zone);
    picked.push(i);
    if (picked.length === rf) break;
  }
  for (const i of skipped) if (picked.length < rf) picked.push(i);
  return picked.map((i) => nodes[i].id);
}

/** Rendezvous (highest random weight) hashing, weighted: score = −w / ln(u). */
export const rendezvous: Baseline = {
  name: 'rendezvous (HRW)',
  place(nodes, resource, partitions, rf) {
    const nodeHash = nodes.map((n) => hash32(n.id));
    const weight = nodes.map((n) => n.capacity ?? 1);
    const uniform = weight.every((w) => w === weight[0]);
    const score = new Float64Array(nodes.length);
    const k = Math.min(nodes.length, rf * 4);
    const rows: string[][] = [];
    for (let p = 0; p < partitions; p++) {
      const key = hash32(`${resource}/${p}`);
      // Only the top few scores matter: keep them by insertion instead of sorting all nodes.
      const top: number[] = [];
      for (let i = 0; i < nodes.length; i++) {
        const h = fmix32(key ^ nodeHash[i]);
        score[i] = uniform ? h : -weight[i] / Math.log((h + 0.5) / 4294967296);
        if (top.length === k && score[i] <= score[top[k - 1]]) continue;
        let j = Math.min(top.length, k - 1);
        while (j > 0 && score[top[j - 1]] < score[i]) j--;
        top.splice(j, 0, i);
        if (top.length > k) top.pop();
      }
      rows.push(pickSpread(top, nodes, rf));
    }
    return rows;
  },
};

/** A plain consistent-hash ring: 100 virtual nodes per unit of capacity, walk clockwise. */
export const consistentRing: Baseline = {
  name: 'consistent ring (100 vnodes)',
  place(nodes, resource, partitions, rf) {
    const points: [number, number][] = [];
    nodes.forEach((n, i) => {
      const vnodes = Math.round(100 * (n.capacity ?? 1));
      for (let v = 0; v < vnodes; v++) points.push([hash32(`${n.id}#${v}`), i]);
    });
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const pos = Float64Array.from(points, (p) => p[0]);
    const owner = Int32Array.from(points, (p) => p[1]);
    const rows: string[][] = [];
    for (let p = 0; p < partitions; p++) {
      const h = hash32(`${resource}/${p}`);
      let lo = 0;
      let hi = pos.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (pos[mid] < h) lo = mid + 1;
        else hi = mid;
      }
      const start = lo;
      rows.push(
        pickSpread(
          (function* walk() {
            for (let k = 0; k < owner.length; k++) yield owner[(start + k) % owner.length];
          })(),
          nodes,
          rf,
        ),
      );
    }
    return rows;
  },
};

/** The `hashring` npm package (ketama, md5, weights), asked for enough servers to spread zones. */
export const hashringPackage: Baseline = {
  name: 'hashring (npm)',
  place(nodes, resource, partitions, rf) {
    const servers: Record<string, { weight: number }> = {};
    for (const n of nodes) servers[n.id] = { weight: n.capacity ?? 1 };
    const ring = new HashRing(servers, 'md5', { 'max cache size': 1 });
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    const rows: string[][] = [];
    for (let p = 0; p < partitions; p++) {
      const range = ring.range(`${resource}/${p}`, Math.min(nodes.length, rf * 4), true);
      rows.push(
        pickSpread(
          range.map((id) => index.get(id) ?? -1),
          nodes,
          rf,
        ),
      );
    }
    return rows;
  },
};

export const baselines: Baseline[] = [hashringPackage, rendezvous, consistentRing];
