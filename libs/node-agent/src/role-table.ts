import { type ReplicaRole, type RoleAssignmentV1, TesseraError } from '@tessera/contracts';

/** A role the node holds for one partition: the last assignment it accepted. */
export interface HeldRole {
  assignment: RoleAssignmentV1;
  epoch: bigint;
  /** Change sequence number when this role was last changed (see RoleTable.sequence). */
  changedAt: number;
}

export type Decision =
  | { kind: 'reject'; assignment: RoleAssignmentV1; highestEpoch: bigint }
  | { kind: 'noop'; assignment: RoleAssignmentV1 }
  | {
      kind: 'apply';
      assignment: RoleAssignmentV1;
      previous: RoleAssignmentV1 | null;
      epoch: bigint;
    };

/** The durable fence of a partition (EpochStore.highest). */
export type FenceLookup = (resource: string, partition: number) => bigint | null;

export function partitionKey(resource: string, partition: number): string {
  return `${resource}/${partition}`;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** True when two assignments say exactly the same thing. */
export function sameAssignment(a: RoleAssignmentV1, b: RoleAssignmentV1): boolean {
  return (
    a.resource === b.resource &&
    a.partition === b.partition &&
    a.partitionCount === b.partitionCount &&
    a.role === b.role &&
    (a.leader ?? null) === (b.leader ?? null) &&
    a.leaderEpoch === b.leaderEpoch &&
    sameMembers(a.isr, b.isr) &&
    sameMembers(a.replicas, b.replicas)
  );
}

/**
 * Checks what the contract's decorators cannot: that an assignment agrees with itself.
 * Throws TesseraError('INVALID') naming the first problem.
 */
export function checkConsistent(nodeId: string, a: RoleAssignmentV1): void {
  const where = `${a.resource}/${a.partition}`;
  const leader = a.leader ?? null;
  if (a.partition >= a.partitionCount) {
    throw new TesseraError(
      'INVALID',
      `${where}: partition must be below partitionCount ${a.partitionCount}`,
    );
  }
  if (a.role === 'LEADER' && leader !== nodeId) {
    throw new TesseraError('INVALID', `${where}: role LEADER but leader is ${String(leader)}`);
  }
  if (a.role === 'LEADER' && !a.isr.includes(nodeId)) {
    throw new TesseraError('INVALID', `${where}: a leader must be in the ISR`);
  }
  if (a.role !== 'LEADER' && leader === nodeId) {
    throw new TesseraError('INVALID', `${where}: role ${a.role} but leader is this node`);
  }
}

function maxEpoch(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/**
 * The roles this node holds, and the pure fencing rules for changing them:
 * - an assignment below the highest epoch seen for its partition is rejected;
 * - at the same epoch it is a re-send: no-op when identical, applied when only membership changed;
 *   but it cannot name another leader than the one already accepted for that epoch
 *   (one leader per epoch), so such a conflict is rejected too;
 * - a higher epoch is applied (after the caller has made the new fence durable).
 */
export class RoleTable {
  private readonly held = new Map<string, HeldRole>();
  private seq = 0;

  constructor(readonly nodeId: string) {}

  /** Grows at every change: a reconcile ignores partitions changed after it started. */
  get sequence(): number {
    return this.seq;
  }

  get(resource: string, partition: number): HeldRole | undefined {
    return this.held.get(partitionKey(resource, partition));
  }

  roles(): HeldRole[] {
    return [...this.held.values()];
  }

  role(resource: string, partition: number): ReplicaRole {
    return this.get(resource, partition)?.assignment.role ?? 'NONE';
  }

  /**
   * Decides each assignment in order, as if the earlier ones were applied (a command may name a
   * partition twice). Nothing changes until `commit`.
   */
  plan(assignments: readonly RoleAssignmentV1[], storedFence: FenceLookup): Decision[] {
    const view = new Map<string, { assignment: RoleAssignmentV1; epoch: bigint } | undefined>();
    const fence = new Map<string, bigint | null>();
    const decisions: Decision[] = [];
    for (const a of assignments) {
      const key = partitionKey(a.resource, a.partition);
      const current = view.has(key) ? view.get(key) : this.held.get(key);
      const highest = fence.has(key)
        ? (fence.get(key) ?? null)
        : maxEpoch(storedFence(a.resource, a.partition), current?.epoch ?? null);
      const epoch = BigInt(a.leaderEpoch);
      const decision = this.decide(a, epoch, current, highest);
      decisions.push(decision);
      if (decision.kind === 'apply') {
        view.set(key, { assignment: a, epoch });
        fence.set(key, maxEpoch(highest, epoch));
      }
    }
    return decisions;
  }

  private decide(
    a: RoleAssignmentV1,
    epoch: bigint,
    current: { assignment: RoleAssignmentV1; epoch: bigint } | undefined,
    highest: bigint | null,
  ): Decision {
    if (highest !== null && epoch < highest)
      return { kind: 'reject', assignment: a, highestEpoch: highest };
    if (current && current.epoch === epoch) {
      if (sameAssignment(current.assignment, a)) return { kind: 'noop', assignment: a };
      const before = current.assignment.leader ?? null;
      const after = a.leader ?? null;
      // One leader per epoch: the same epoch cannot crown someone else (a forged or corrupt command).
      if (before !== null && after !== null && before !== after) {
        return { kind: 'reject', assignment: a, highestEpoch: epoch };
      }
      if (a.role === 'LEADER' && before !== this.nodeId) {
        return { kind: 'reject', assignment: a, highestEpoch: epoch };
      }
    }
    if (!current && a.role === 'NONE' && highest !== null && epoch === highest) {
      // Nothing held and nothing new to fence: nothing to do.
      return { kind: 'noop', assignment: a };
    }
    return { kind: 'apply', assignment: a, previous: current?.assignment ?? null, epoch };
  }

  /** Applies planned decisions (the caller has persisted their fences first). */
  commit(decisions: readonly Decision[]): void {
    for (const d of decisions) {
      if (d.kind !== 'apply') continue;
      this.seq++;
      const key = partitionKey(d.assignment.resource, d.assignment.partition);
      this.held.set(key, { assignment: d.assignment, epoch: d.epoch, changedAt: this.seq });
    }
  }

  /**
   * A leader event naming another node (or none) at a higher epoch than the one this node leads
   * at: the assignment that steps it down at once, without waiting for its own command. Null
   * when the event changes nothing for this node.
   */
  stepDownFor(
    resource: string,
    partition: number,
    leader: string | null,
    epoch: bigint,
    isr: string[],
  ): RoleAssignmentV1 | null {
    const h = this.get(resource, partition);
    if (!h || h.assignment.role !== 'LEADER' || epoch <= h.epoch || leader === this.nodeId)
      return null;
    const role: ReplicaRole = h.assignment.replicas.includes(this.nodeId) ? 'FOLLOWER' : 'NONE';
    return { ...h.assignment, role, leader, leaderEpoch: epoch.toString(), isr: [...isr] };
  }

  /**
   * A reconcile reply is the full set of roles the node should hold. Partitions changed after
   * the reconcile request was sent are left alone (their newer state wins until the next round);
   * held roles missing from the reply fall to NONE at their current epoch.
   */
  reconcileSet(assignments: readonly RoleAssignmentV1[], startedAt: number): RoleAssignmentV1[] {
    const fresh = (resource: string, partition: number): boolean =>
      (this.get(resource, partition)?.changedAt ?? 0) <= startedAt;
    const listed = new Set(assignments.map((a) => partitionKey(a.resource, a.partition)));
    const result = assignments.filter((a) => fresh(a.resource, a.partition));
    for (const [key, h] of this.held) {
      if (listed.has(key) || h.assignment.role === 'NONE' || h.changedAt > startedAt) continue;
      result.push({
        ...h.assignment,
        role: 'NONE',
        leader: h.assignment.leader === this.nodeId ? null : h.assignment.leader,
      });
    }
    return result;
  }
}
