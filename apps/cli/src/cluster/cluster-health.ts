import type {
  MapViewV1,
  NodeState,
  NodeViewV1,
  OperationState,
  OperationV1,
  PartitionState,
  PartitionViewV1,
} from '@tessera/contracts';

// Kept here as literals (not imported) so the CLI loads no validation library at start-up;
// the `satisfies` clauses make the compiler catch any drift from the contracts.
const NODE_STATE_ORDER = [
  'ALIVE',
  'SUSPECT',
  'DRAINING',
  'DEAD',
  'LEFT',
] as const satisfies readonly NodeState[];
const ACTIVE_OPERATION_STATES = ['PENDING', 'RUNNING'] as const satisfies readonly OperationState[];
const FINISHED_OPERATION_STATES = [
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
] as const satisfies readonly OperationState[];

/** Offline when nobody leads; under-replicated when the ISR is shorter than the replica list. */
export function partitionStateOf(partition: PartitionViewV1): PartitionState {
  if (partition.leader === null) return 'OFFLINE';
  if (partition.isr.length < partition.replicas.length) return 'UNDER_REPLICATED';
  return 'ONLINE';
}

export function isActiveOperation(operation: OperationV1): boolean {
  return (ACTIVE_OPERATION_STATES as readonly string[]).includes(operation.state);
}

export function isFinishedOperation(operation: OperationV1): boolean {
  return (FINISHED_OPERATION_STATES as readonly string[]).includes(operation.state);
}

export interface ClusterStatus {
  apiUrl: string;
  mapVersion: number;
  healthy: boolean;
  nodes: { total: number; byState: Record<NodeState, number> };
  resources: number;
  partitions: { total: number; led: number; underReplicated: number; offline: number };
  operations: { running: number; items: OperationV1[] };
}

/** `tessera status`: the whole cluster in a few numbers. */
export function summarizeCluster(
  apiUrl: string,
  nodes: NodeViewV1[],
  map: MapViewV1,
  operations: OperationV1[],
): ClusterStatus {
  const byState = Object.fromEntries(NODE_STATE_ORDER.map((state) => [state, 0])) as Record<
    NodeState,
    number
  >;
  for (const node of nodes) byState[node.state] = (byState[node.state] ?? 0) + 1;

  const partitions = { total: 0, led: 0, underReplicated: 0, offline: 0 };
  for (const resource of map.resources) {
    for (const partition of resource.partitions) {
      partitions.total++;
      if (partition.leader === null) partitions.offline++;
      else partitions.led++;
      if (partition.isr.length < partition.replicas.length) partitions.underReplicated++;
    }
  }

  const running = operations.filter(isActiveOperation);
  const nodesHealthy = byState.SUSPECT === 0 && byState.DEAD === 0;
  return {
    apiUrl,
    mapVersion: map.version,
    healthy: nodesHealthy && partitions.underReplicated === 0 && partitions.offline === 0,
    nodes: { total: nodes.length, byState },
    resources: map.resources.length,
    partitions,
    operations: { running: running.length, items: running },
  };
}

export { NODE_STATE_ORDER };
