/** Node state as the admin API shows it: liveness (health) merged with admin state (coordinator). */
export const NODE_STATES = ['ALIVE', 'SUSPECT', 'DEAD', 'DRAINING', 'LEFT'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Liveness, owned by health. */
export const LIVENESS_STATES = ['ALIVE', 'SUSPECT', 'DEAD'] as const;
export type LivenessState = (typeof LIVENESS_STATES)[number];

/** Administrative state, owned by the coordinator. */
export const ADMIN_STATES = ['ACTIVE', 'DRAINING', 'LEFT'] as const;
export type AdminState = (typeof ADMIN_STATES)[number];

/** A replica's role on a node for one partition. */
export const REPLICA_ROLES = ['LEADER', 'FOLLOWER', 'NONE'] as const;
export type ReplicaRole = (typeof REPLICA_ROLES)[number];

/** Partition health as seen from leader and ISR. */
export const PARTITION_STATES = ['ONLINE', 'UNDER_REPLICATED', 'OFFLINE'] as const;
export type PartitionState = (typeof PARTITION_STATES)[number];

export const OPERATION_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export function nodeStateOf(admin: AdminState, liveness: LivenessState | null): NodeState {
  if (admin === 'LEFT') return 'LEFT';
  if (liveness === 'DEAD') return 'DEAD';
  if (admin === 'DRAINING') return 'DRAINING';
  return liveness ?? 'SUSPECT';
}
