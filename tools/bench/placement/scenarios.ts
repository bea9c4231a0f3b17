import type { PlacementNode } from '../../../libs/placement/src';

export const PARTITIONS = 100_000;
export const RF = 3;

/** Reference: 1,000 equal nodes in 10 equal zones. */
export function referenceNodes(): PlacementNode[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    id: `node-${String(i).padStart(4, '0')}`,
    zone: `zone-${i % 10}`,
    rack: `rack-${Math.floor(i / 10) % 20}`,
  }));
}

/** Heterogeneous: 600 nodes of capacity 1, 2 or 4 in 10 zones of unequal size (100 … 20). */
export function heterogeneousNodes(): PlacementNode[] {
  const sizes = [100, 90, 80, 70, 60, 60, 50, 40, 30, 20];
  const nodes: PlacementNode[] = [];
  sizes.forEach((size, z) => {
    for (let k = 0; k < size; k++) {
      const i = nodes.length;
      nodes.push({
        id: `node-${String(i).padStart(4, '0')}`,
        zone: `zone-${z}`,
        capacity: [1, 2, 4][i % 3],
      });
    }
  });
  return nodes;
}
