import { type LivenessState, type NodeState } from '../common/states';
import { type PartitionStateV1 } from '../partition/partition.messages';

/** Internal events carry an id to dedupe by and the time. */
export interface InternalEventEnvelopeV1 {
  eventId: string;
  at: string;
}

/** Public events also carry the map version they belong to. */
export interface EventEnvelopeV1 extends InternalEventEnvelopeV1 {
  version: number;
}

/** `events.node.state` (public). */
export interface NodeStateEventV1 extends EventEnvelopeV1 {
  nodeId: string;
  state: NodeState;
  previous: NodeState | null;
}

/**
 * `events.partition.leader` (public): one partition's entry as of map `version`; leader null when
 * the partition is offline. Together with `replicas` it carries everything a map entry has, so a
 * client can apply it as a delta.
 */
export interface PartitionLeaderEventV1 extends EventEnvelopeV1 {
  resource: string;
  partition: number;
  leader: string | null;
  epoch: number;
  isr: string[];
  /** The replica list, preferred leader first, as in `GET /map` (an additive field). */
  replicas: string[];
}

/** Why a map version was made (`events.map` `reason`). */
export const MAP_CHANGE_REASONS = ['PARTITIONS_CHANGED', 'RESOURCE_CREATED', 'RESOURCE_DELETED'] as const;
export type MapChangeReasonV1 = (typeof MAP_CHANGE_REASONS)[number];

/**
 * `events.map` (public): map `version` was committed. The delta fields (`changes`, `full`,
 * `reason`) are additive: a consumer that ignores them refetches `GET /map` on each version.
 */
export interface MapEventV1 extends EventEnvelopeV1 {
  /** How many `events.partition.leader` events carry this same version (published before this one). */
  changes: number;
  /**
   * True when this version cannot be rebuilt from those events (a resource was created or
   * deleted): a client holding the previous version must refetch the map.
   */
  full: boolean;
  reason: MapChangeReasonV1;
}

/** `events.internal.node.registered` (coordinator → health). */
export interface NodeRegisteredEventV1 extends InternalEventEnvelopeV1 {
  nodeId: string;
  incarnation: number;
}

/** `events.internal.node.liveness` (health → coordinator, recovery): merged with admin state by the coordinator. */
export interface NodeLivenessEventV1 extends InternalEventEnvelopeV1 {
  nodeId: string;
  state: LivenessState;
  previous: LivenessState | null;
}

export const PARTITION_CHANGE_REASONS = ['INITIALIZE', 'ELECTION', 'DELETE', 'ISR_CHANGE', 'REASSIGN', 'LEADER_MOVE'] as const;

/** `events.internal.partitions.changed` (consensus → coordinator, replication, recovery). */
export interface PartitionsChangedEventV1 extends InternalEventEnvelopeV1 {
  reason: (typeof PARTITION_CHANGE_REASONS)[number];
  changes: PartitionStateV1[];
  /** For DELETE: the resource whose partitions are gone. */
  deletedResource?: string;
}

/** `events.internal.resource.deleted` (coordinator). */
export interface ResourceDeletedEventV1 extends InternalEventEnvelopeV1 {
  resource: string;
}
