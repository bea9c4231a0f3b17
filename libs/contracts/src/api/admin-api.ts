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
