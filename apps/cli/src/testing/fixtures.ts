import type {
  MapViewV1,
  NodeViewV1,
  OperationV1,
  PartitionViewV1,
  RebalancePlanV1,
  ResourceViewV1,
} from '@tessera/contracts';

export const NOW = Date.parse('2026-01-01T12:00:00.000Z');
export const secondsAgo = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

export function node(id: string, overrides: Partial<NodeViewV1> = {}): NodeViewV1 {
  return {
    id,
    zone: 'z1',
    rack: 'r1',
    capacity: 1,
    tags: [],
    state: 'ALIVE',
    lastHeartbeatAt: secondsAgo(2),
    ...overrides,
  };
}

export function partition(
  index: number,
  overrides: Partial<PartitionViewV1> = {},
): PartitionViewV1 {
  return {
    partition: index,
    replicas: ['n1', 'n2', 'n3'],
    leader: 'n1',
    epoch: 1,
    isr: ['n1', 'n2', 'n3'],
    ...overrides,
  };
}

/** orders: p0 healthy, p1 under-replicated, p2 offline; users: one healthy partition. */
export function sampleMap(): MapViewV1 {
  return {
    version: 7,
    resources: [
      {
        name: 'users',
        partitionCount: 1,
        partitions: [
          partition(0, { leader: 'n2', replicas: ['n2', 'n3', 'n1'], isr: ['n2', 'n3', 'n1'] }),
        ],
      },
      {
        name: 'orders',
        partitionCount: 3,
        partitions: [
          partition(2, { leader: null, epoch: 4, isr: [] }),
          partition(0),
          partition(1, { isr: ['n1', 'n2'], epoch: 2 }),
        ],
      },
    ],
  };
}

export function operation(overrides: Partial<OperationV1> = {}): OperationV1 {
  return {
    id: 'op-1',
    kind: 'DRAIN',
    state: 'RUNNING',
    subject: 'n3',
    progress: { done: 3, total: 12 },
    startedAt: secondsAgo(65),
    finishedAt: null,
    error: null,
    ...overrides,
  };
}

export function resource(overrides: Partial<ResourceViewV1> = {}): ResourceViewV1 {
  return {
    name: 'orders',
    partitions: 16,
    replicationFactor: 3,
    placement: { spreadBy: 'zone', requireTags: [] },
    createdAt: secondsAgo(3600),
    warnings: [],
    ...overrides,
  };
}

export function plan(overrides: Partial<RebalancePlanV1> = {}): RebalancePlanV1 {
  return {
    resource: 'orders',
    dryRun: true,
    moves: 1,
    leaderMoves: 1,
    steps: [
      { partition: 3, kind: 'ADD_REPLICA', node: 'n4' },
      { partition: 3, kind: 'WAIT_IN_SYNC', node: 'n4' },
      { partition: 3, kind: 'MOVE_LEADERSHIP', node: 'n4', from: 'n1' },
      { partition: 3, kind: 'REMOVE_REPLICA', node: 'n1' },
      { partition: 1, kind: 'MOVE_LEADERSHIP', node: 'n2', from: 'n3' },
    ],
    before: { replicasMaxOverMean: 1.5, leadersMaxOverMean: 2 },
    after: { replicasMaxOverMean: 1, leadersMaxOverMean: 1.125 },
    warnings: [],
    operationId: null,
    ...overrides,
  };
}
