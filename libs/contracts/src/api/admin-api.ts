import { type NodeState } from '../common/states';

/** Shapes of the coordinator's admin REST API (`/api/v1`), shared with the CLI and client. */
export const API_PREFIX = 'api/v1';

export interface NodeViewV1 {
  id: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
  state: NodeState;
  lastHeartbeatAt: string | null;
}

export type SpreadBy = 'zone' | 'rack' | 'none';

export interface PlacementRulesV1 {
  spreadBy?: SpreadBy;
  requireTags?: string[];
}

export interface CreateResourceBodyV1 {
  name: string;
  partitions: number;
  replicationFactor: number;
  placement?: PlacementRulesV1;
}

export interface ResourceViewV1 {
  name: string;
  partitions: number;
  replicationFactor: number;
  placement: { spreadBy: SpreadBy; requireTags: string[] };
  createdAt: string;
  warnings: string[];
}

export interface PartitionViewV1 {
  partition: number;
  replicas: string[];
  leader: string | null;
  epoch: number;
  isr: string[];
}

export interface MapResourceV1 {
  name: string;
  partitionCount: number;
  partitions: PartitionViewV1[];
}

export interface MapViewV1 {
  version: number;
  resources: MapResourceV1[];
}

export interface ApiErrorBodyV1 {
  statusCode: number;
  code: string;
  message: string;
}

/** `GET /resources/:name`: the resource with its slice of the map and health counts. */
export interface ResourceDetailV1 extends ResourceViewV1 {
  state: 'CREATING' | 'ACTIVE' | 'DELETING';
  partitionsLed: number;
  underReplicated: number;
  offline: number;
  map: MapResourceV1;
}

/** `POST /nodes/:id/drain` and `/undrain`. */
export interface NodeAdminReplyV1 {
  node: NodeViewV1;
  /** The operation moving replicas away (drain), null when nothing has to move. */
  operationId: string | null;
}

export interface BalanceStatsV1 {
  replicasMaxOverMean: number;
  leadersMaxOverMean: number;
}

export interface PlanStepV1 {
  partition: number;
  kind: 'ADD_REPLICA' | 'WAIT_IN_SYNC' | 'MOVE_LEADERSHIP' | 'REMOVE_REPLICA';
  node: string;
  /** For MOVE_LEADERSHIP: the node leadership moves from. */
  from?: string;
}

/** `POST /resources/:name/rebalance` with `{ dryRun }`. */
export interface RebalancePlanV1 {
  resource: string;
  dryRun: boolean;
  moves: number;
  leaderMoves: number;
  steps: PlanStepV1[];
  before: BalanceStatsV1;
  after: BalanceStatsV1;
  warnings: string[];
  operationId: string | null;
}

/** `DELETE /resources/:name`. */
export interface ResourceDeletedReplyV1 {
  name: string;
  deleted: true;
}
