import type { PlacementNode } from './types';
import { isEligibleState } from './validate';

export interface LoadStats {
  total: number;
  min: number;
  max: number;
  /** Largest capacity-normalised load over the mean (1.00 = perfect). */
  maxOverMean: number;
  /** Largest |held − capacity-proportional share|, in replicas. */
  maxDeviation: number;
}

export interface BalanceStats {
  /** Eligible nodes counted (ALIVE or SUSPECT). */
  nodes: number;
  replicas: LoadStats;
  leaders: LoadStats;
  replicasMaxOverMean: number;
  leadersMaxOverMean: number;
}

function loadStats(counts: Map<string, number>, nodes: PlacementNode[]): LoadStats {
  const capacity = nodes.reduce((s, n) => s + (n.capacity ?? 1), 0);
  let total = 0;
  for (const n of nodes) total += counts.get(n.id) ?? 0;
  let min = Infinity;
  let max = 0;
  let maxLoad = 0;
  let maxDeviation = 0;
  for (const n of nodes) {
    const held = counts.get(n.id) ?? 0;
    const cap = n.capacity ?? 1;
    min = Math.min(min, held);
    max = Math.max(max, held);
    maxLoad = Math.max(maxLoad, held / cap);
    maxDeviation = Math.max(maxDeviation, Math.abs(held - (total * cap) / capacity));
  }
  const mean = capacity > 0 ? total / capacity : 0;
  return {
    total,
    min: nodes.length === 0 ? 0 : min,
    max,
    maxOverMean: mean > 0 ? maxLoad / mean : 1,
    maxDeviation,
  };
}

/**
 * Replica and preferred-leader load per eligible node, normalised by capacity, over all resources
 * of `assignment`. Used by the benchmark and the dry-run rebalance API (before/after figures).
 */
export function balanceStats(
  assignment: Readonly<Record<string, readonly (readonly string[])[]>>,
  nodes: readonly PlacementNode[],
): BalanceStats {
  const eligible = nodes.filter((n) => isEligibleState(n.state ?? 'ALIVE'));
  const replicas = new Map<string, number>();
  const leaders = new Map<string, number>();
  for (const rows of Object.values(assignment)) {
    for (const row of rows) {
      row.forEach((id, k) => {
        replicas.set(id, (replicas.get(id) ?? 0) + 1);
        if (k === 0) leaders.set(id, (leaders.get(id) ?? 0) + 1);
      });
    }
  }
  const r = loadStats(replicas, eligible);
  const l = loadStats(leaders, eligible);
  return {
    nodes: eligible.length,
    replicas: r,
    leaders: l,
    replicasMaxOverMean: r.maxOverMean,
    leadersMaxOverMean: l.maxOverMean,
  };
}
