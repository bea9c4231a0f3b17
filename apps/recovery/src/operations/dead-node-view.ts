import { type LivenessState } from '@tessera/contracts';

/**
 * Recovery's view of which nodes are DEAD, fed by liveness events (in stream order) and seeded
 * from a snapshot asked of health. The snapshot may cross events in flight, so it only fills in
 * nodes no event has spoken about since the snapshot was asked for: an event is never undone.
 * Events of one node are applied in the order health made them (their `at`), not the order they
 * arrive in: a redelivered old event must not undo a newer one.
 */
export class DeadNodeView {
  private readonly states = new Map<string, LivenessState>();
  private readonly lastEventSeq = new Map<string, number>();
  private readonly lastEventAt = new Map<string, number>();
  private seq = 0;
  private wasSeeded = false;

  /** Whether an event made at `atMs` is older than one already applied for the node. */
  isStale(nodeId: string, atMs: number): boolean {
    return atMs < (this.lastEventAt.get(nodeId) ?? -Infinity);
  }

  /** Applies a liveness event made at `atMs`; a stale one changes nothing (returns false). */
  apply(nodeId: string, state: LivenessState, atMs: number): boolean {
    if (this.isStale(nodeId, atMs)) return false;
    this.seq++;
    this.states.set(nodeId, state);
    this.lastEventSeq.set(nodeId, this.seq);
    this.lastEventAt.set(nodeId, atMs);
    return true;
  }

  /** Call before asking health for a snapshot; pass the mark to `seed`. */
  mark(): number {
    return this.seq;
  }

  /** Applies health's snapshot to every node no event has touched since `mark`. */
  seed(mark: number, nodes: readonly { nodeId: string; state: LivenessState }[]): void {
    for (const { nodeId, state } of nodes) {
      if ((this.lastEventSeq.get(nodeId) ?? 0) > mark) continue;
      this.states.set(nodeId, state);
    }
    this.wasSeeded = true;
  }

  get seeded(): boolean {
    return this.wasSeeded;
  }

  isDead(nodeId: string): boolean {
    return this.states.get(nodeId) === 'DEAD';
  }

  /** Whether anything (event or snapshot) has told us about the node. */
  knows(nodeId: string): boolean {
    return this.states.has(nodeId);
  }

  /** Every DEAD node, sorted (the `unavailable` list of an election). */
  dead(): string[] {
    return [...this.states]
      .filter(([, s]) => s === 'DEAD')
      .map(([id]) => id)
      .sort();
  }
}
