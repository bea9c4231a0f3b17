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

/** One partition's entry as of a map version: everything a `GET /map` entry has, and its resource. */
export interface MapChangeV1 {
  resource: string;
  partition: number;
  /** null when the partition is offline. */
  leader: string | null;
  epoch: number;
  isr: string[];
  /** The replica list, preferred leader first, as in `GET /map`. */
  replicas: string[];
}

/**
 * `events.partition.leader` (public): one partition's entry as of map `version`; leader null when
 * the partition is offline. Together with `replicas` (an additive field) it carries everything a
 * map entry has, so a consumer can apply it as a delta.
 */
export type PartitionLeaderEventV1 = EventEnvelopeV1 & MapChangeV1;

/** Why a map version was made (`events.map` `reason`). */
export const MAP_CHANGE_REASONS = [
  'PARTITIONS_CHANGED',
  'RESOURCE_CREATED',
  'RESOURCE_DELETED',
] as const;
export type MapChangeReasonV1 = (typeof MAP_CHANGE_REASONS)[number];

/**
 * `events.map` (public): map `version` was committed. The delta fields (`changes`, `full`,
 * `reason`, `partitions`, `chunks`) are additive: a consumer that ignores them refetches
 * `GET /map` on each version.
 */
export interface MapEventV1 extends EventEnvelopeV1 {
  /** How many partitions changed in this version (each also has its `events.partition.leader`, published before this one). */
  changes: number;
  /**
   * True when this version cannot be rebuilt from its changes (a resource was created or
   * deleted): a client holding the previous version must refetch the map.
   */
  full: boolean;
  reason: MapChangeReasonV1;
  /**
   * The changed entries themselves, when there are at most MAP_EVENT_MAX_ENTRIES of them: one
   * message makes the whole version (a client needs nothing else).
   */
  partitions?: MapChangeV1[];
  /** Otherwise: how many `events.map.changes` messages carry them (published before this one). */
  chunks?: number;
}

/**
 * `events.map.changes` (public, additive): a share of a large version's changed entries, for
 * versions with more than MAP_EVENT_MAX_ENTRIES of them (a failover of thousands of partitions).
 */
export interface MapChangesEventV1 extends EventEnvelopeV1 {
  /** 0-based, of `chunks`. */
  chunk: number;
  chunks: number;
  partitions: MapChangeV1[];
}

/** Entries per map message: a routing client takes a version of up to this many changes as one message. */
export const MAP_EVENT_MAX_ENTRIES = 1_000;

/**
 * Bytes of entries per map message. With 64-character names and RF 7 an entry is about 1.2 KB,
 * so a count alone could pass NATS's 1 MB default max_payload, and a message the server refuses
 * would be retried by the outbox relay forever.
 */
export const MAP_EVENT_MAX_BYTES = 256 * 1024;

/**
 * How a version of partition changes goes out to routing clients: inline in `events.map` when
 * it fits one message (by count and by bytes), else in `events.map.changes` chunks, each within
 * both limits, before the announcement.
 */
export function mapVersionMessages(
  version: number,
  changes: MapChangeV1[],
  limits: { maxEntries?: number; maxBytes?: number } = {},
): {
  chunks: Omit<MapChangesEventV1, 'eventId' | 'at'>[];
  announce: Omit<MapEventV1, 'eventId' | 'at'>;
} {
  const maxEntries = limits.maxEntries ?? MAP_EVENT_MAX_ENTRIES;
  const maxBytes = limits.maxBytes ?? MAP_EVENT_MAX_BYTES;
  const base = {
    version,
    changes: changes.length,
    full: false,
    reason: 'PARTITIONS_CHANGED',
  } as const;
  const groups: MapChangeV1[][] = [];
  let group: MapChangeV1[] = [];
  let bytes = 0;
  for (const change of changes) {
    const size = JSON.stringify(change).length + 1; // and its comma
    if (group.length > 0 && (group.length >= maxEntries || bytes + size > maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(change);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  if (groups.length <= 1) return { chunks: [], announce: { ...base, partitions: changes } };
  const chunks = groups.map((partitions, chunk) => ({
    version,
    chunk,
    chunks: groups.length,
    partitions,
  }));
  return { chunks, announce: { ...base, chunks: groups.length } };
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

export const PARTITION_CHANGE_REASONS = [
  'INITIALIZE',
  'ELECTION',
  'DELETE',
  'ISR_CHANGE',
  'REASSIGN',
  'LEADER_MOVE',
] as const;

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
