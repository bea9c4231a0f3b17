import {
  type MapViewV1,
  NODE_STATES,
  type NodeState,
  type NodeViewV1,
  type OperationV1,
  type ResourceViewV1,
} from '@tessera/contracts';

/** Finished operations kept on the dashboard beside the running ones (the newest first). */
export const RECENT_FINISHED_OPERATIONS = 8;

export interface DashboardSummaryV1 {
  nodes: Record<NodeState, number>;
  partitions: { total: number; led: number; underReplicated: number; offline: number };
  operationsRunning: number;
}

/** One full picture of the cluster, as the dashboard stream sends it (`GET /api/v1/stream`). */
export interface DashboardSnapshotV1 {
  cluster: string;
  /** Server time of the snapshot: the page measures heartbeat ages against it, not its own clock. */
  at: string;
  nodes: NodeViewV1[];
  map: MapViewV1;
  resources: ResourceViewV1[];
  operations: OperationV1[];
  summary: DashboardSummaryV1;
}

const isRunning = (o: OperationV1): boolean => o.state === 'RUNNING' || o.state === 'PENDING';

/** Running operations first (oldest first, as they started), then the most recent finished ones. */
export function selectOperations(
  all: OperationV1[],
  recentFinished = RECENT_FINISHED_OPERATIONS,
): OperationV1[] {
  const running = all.filter(isRunning).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const finished = all
    .filter((o) => !isRunning(o))
    .sort((a, b) => (b.finishedAt ?? b.startedAt).localeCompare(a.finishedAt ?? a.startedAt))
    .slice(0, recentFinished);
  return [...running, ...finished];
}

/**
 * The counters at the top of the page. Under-replicated: led, but the ISR is smaller than the
 * replica set; offline: no leader (it counts as neither led nor under-replicated).
 */
export function summarize(
  nodes: NodeViewV1[],
  map: MapViewV1,
  operations: OperationV1[],
): DashboardSummaryV1 {
  const byState = Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<NodeState, number>;
  for (const n of nodes) byState[n.state] += 1;
  const partitions = { total: 0, led: 0, underReplicated: 0, offline: 0 };
  for (const resource of map.resources) {
    for (const p of resource.partitions) {
      partitions.total += 1;
      if (p.leader === null) {
        partitions.offline += 1;
        continue;
      }
      partitions.led += 1;
      if (p.replicas.some((r) => !p.isr.includes(r))) partitions.underReplicated += 1;
    }
  }
  return { nodes: byState, partitions, operationsRunning: operations.filter(isRunning).length };
}

export function buildSnapshot(input: {
  cluster: string;
  at: Date;
  nodes: NodeViewV1[];
  map: MapViewV1;
  resources: ResourceViewV1[];
  operations: OperationV1[];
}): DashboardSnapshotV1 {
  const operations = selectOperations(input.operations);
  return {
    cluster: input.cluster,
    at: input.at.toISOString(),
    nodes: input.nodes,
    map: input.map,
    resources: input.resources,
    operations,
    summary: summarize(input.nodes, input.map, input.operations),
  };
}
