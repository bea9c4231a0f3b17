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

/** `events.partition.leader` (public): leader null when the partition is offline. */
export interface PartitionLeaderEventV1 extends EventEnvelopeV1 {
  resource: string;
  partition: number;
  leader: string | null;
  epoch: number;
  isr: string[];
}

/** `events.map` (public). */
export type MapEventV1 = EventEnvelopeV1;

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
