import { type LivenessState } from '@tessera/contracts';

/** A state a node reached, waiting to be persisted. */
export interface PendingTransition {
  nodeId: string;
  to: LivenessState;
}

/** One row to write: the node's newest state (and the incarnation to record with it). */
export interface LivenessWrite {
  nodeId: string;
  state: LivenessState;
  incarnation: number;
}

/**
 * Folds the transitions waiting to be persisted (one tick's, or several ticks' while Postgres
 * was unreachable) into one write per node: its newest state, in order of first appearance.
 * A node that ends where Postgres already has it (ALIVE → SUSPECT → ALIVE during an outage) is
 * dropped: nobody saw the detour, so nothing is announced.
 */
export function coalesceTransitions(
  pending: readonly PendingTransition[],
  persisted: ReadonlyMap<string, LivenessState>,
  incarnationOf: (nodeId: string) => number,
): LivenessWrite[] {
  // A Map keeps the order of first insertion; later sets only replace the value.
  const newest = new Map<string, LivenessState>();
  for (const t of pending) newest.set(t.nodeId, t.to);
  const writes: LivenessWrite[] = [];
  for (const [nodeId, state] of newest) {
    if (persisted.get(nodeId) === state) continue;
    writes.push({ nodeId, state, incarnation: incarnationOf(nodeId) });
  }
  return writes;
}
