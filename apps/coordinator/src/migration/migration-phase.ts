import { type PartitionStateV1 } from '@tessera/contracts';

/** One partition's move, as the coordinator persisted it: from the old list to the target. */
export interface PlannedMove {
  resource: string;
  partition: number;
  from: string[];
  to: string[];
}

/**
 * Where a move stands, read from what consensus committed (so the driver is stateless and
 * resumes after any crash): make before break, one step at a time.
 * - ADD: target replicas not all present yet → reassign to the union (target first).
 * - WAIT_IN_SYNC: added replicas not yet in the ISR → replication lets them in when caught up.
 * - MOVE_LEADERSHIP: the target's preferred leader is in sync but does not lead yet.
 * - REMOVE: only the surplus replicas are left to drop → reassign to the target.
 * - OFFLINE: no leader; nothing is moved until failover brings one back.
 */
export type MovePhase = 'ADD' | 'WAIT_IN_SYNC' | 'MOVE_LEADERSHIP' | 'REMOVE' | 'DONE' | 'OFFLINE';

export function phaseOf(move: PlannedMove, state: PartitionStateV1): MovePhase {
  const replicas = new Set(state.replicas);
  const isr = new Set(state.isr);
  const targetSet = new Set(move.to);
  const sameSet = state.replicas.length === move.to.length && move.to.every((n) => replicas.has(n));
  if (sameSet && state.leader === move.to[0]) return 'DONE';
  if (state.leader === null) return 'OFFLINE';
  if (!move.to.every((n) => replicas.has(n))) return 'ADD';
  if (!move.to.every((n) => isr.has(n))) return 'WAIT_IN_SYNC';
  if (state.leader !== move.to[0]) return 'MOVE_LEADERSHIP';
  if (state.replicas.some((n) => !targetSet.has(n))) return 'REMOVE';
  return 'DONE';
}

/** The replica list while adding: the target in its order, then the replicas being replaced. */
export function unionReplicas(move: PlannedMove, state: PartitionStateV1): string[] {
  return [...move.to, ...state.replicas.filter((n) => !move.to.includes(n))];
}

/**
 * Nodes a move keeps busy, for the per-node throttle: those receiving a copy and the leader
 * serving it. A replica being dropped costs its node nothing, and a dead node does no work at all:
 * counting them would let a dead node's re-placement run only a couple of moves at a time.
 */
export function nodesOf(move: PlannedMove, leader: string | null): string[] {
  const added = move.to.filter((n) => !move.from.includes(n));
  return [...new Set([...added, ...(leader !== null && added.length > 0 ? [leader] : [])])];
}

/**
 * Chooses which moves may be in flight: those already started keep their slots; new ones start
 * in plan order while no node and not the cluster exceed their limits.
 */
export function admit(
  moves: { key: string; nodes: string[]; started: boolean }[],
  limits: { maxMovesPerNode: number; maxMovesPerCluster: number },
): Set<string> {
  const perNode = new Map<string, number>();
  const admitted = new Set<string>();
  const take = (m: { key: string; nodes: string[] }) => {
    admitted.add(m.key);
    for (const n of m.nodes) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  };
  for (const m of moves) if (m.started) take(m);
  for (const m of moves) {
    if (m.started || admitted.size >= limits.maxMovesPerCluster) continue;
    if (m.nodes.every((n) => (perNode.get(n) ?? 0) < limits.maxMovesPerNode)) take(m);
  }
  return admitted;
}
