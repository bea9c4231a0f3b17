import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { type ErrorCode } from '../common/errors';
import { IsReplicaMatrix } from '../common/replica-matrix';
import {
  MAX_PARTITIONS,
  MAX_REPLICATION_FACTOR,
  TOKEN_PATTERN,
  TOKEN_RULE,
} from '../common/identifiers';
import { type ReplicaRole, REPLICA_ROLES } from '../common/states';

// Fast validator of the role command (same rules as the classes below).
export * from './partition.parse';

/** Leader-and-ISR state of one partition, as consensus commits it. */
export interface PartitionStateV1 {
  resource: string;
  partition: number;
  /** Target replicas, preferred leader first. */
  replicas: string[];
  leader: string | null;
  /** Leader epoch: grows at every leadership grant, never reused. Decimal string (bigint). */
  leaderEpoch: string;
  isr: string[];
  /** Partition epoch: grows at every change of the row; the compare-and-set version. */
  partitionEpoch: string;
}

/** `consensus.partition.initialize`: first leaders for a new resource (epoch 1, ISR = replicas). */
export class InitializePartitionsRequestV1 {
  @Matches(TOKEN_PATTERN, { message: `resource must be ${TOKEN_RULE}` })
  resource!: string;

  /** replicas[p] = replica list of partition p, preferred leader first. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PARTITIONS)
  @IsReplicaMatrix()
  replicas!: string[][];
}

export interface InitializePartitionsReplyV1 {
  resource: string;
  created: number;
}

/** `consensus.partition.delete`: drop a resource's partition state. */
export class DeletePartitionsRequestV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;
}

export interface DeletePartitionsReplyV1 {
  resource: string;
  deleted: number;
}

/**
 * `consensus.partition.elect`: some nodes are unavailable (dead, or leaving). For every partition
 * led by one of them, or offline, elect a new leader from the ISR (preferred order) among the
 * available members, and drop unavailable members from the ISR while one member remains.
 */
export class ElectLeadersRequestV1 {
  @IsArray()
  @ArrayMaxSize(10_000)
  @Matches(TOKEN_PATTERN, { each: true })
  unavailable!: string[];

  /** Why: kept in the event for operators. */
  @IsIn(['NODE_DEAD', 'NODE_RETURNED', 'DRAIN', 'RECONCILE'])
  reason!: 'NODE_DEAD' | 'NODE_RETURNED' | 'DRAIN' | 'RECONCILE';
}

export interface ElectLeadersReplyV1 {
  /** Partitions that got a new leader. */
  elected: number;
  /** Partitions left without a live in-sync replica (leader null). */
  offline: number;
  /** Rows changed in the batch (elections and ISR shrinks). */
  changed: number;
}

/** `consensus.partition.query`: read committed partition state. */
export const QUERY_PAGE_MAX = 2_000;

/**
 * Paging of answers ordered by (resource, partition), so replies stay under NATS's 1 MB payload
 * limit: at most `limit` items, starting after (afterResource, afterPartition).
 */
export abstract class PartitionPageV1 {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(QUERY_PAGE_MAX)
  limit?: number;

  @IsOptional()
  @Matches(TOKEN_PATTERN)
  afterResource?: string;

  @IsOptional()
  @IsInt()
  @Min(-1)
  @Max(MAX_PARTITIONS)
  afterPartition?: number;
}

/** Where the next page starts. */
export interface PartitionCursorV1 {
  afterResource: string;
  afterPartition: number;
}

export class QueryPartitionsRequestV1 extends PartitionPageV1 {
  @IsOptional()
  @Matches(TOKEN_PATTERN)
  resource?: string;
}

export interface QueryPartitionsReplyV1 {
  partitions: PartitionStateV1[];
  /** Where the next page starts, null on the last page. */
  next: PartitionCursorV1 | null;
}

/**
 * `consensus.node.roles.<nodeId>`: the roles a node should hold now. Without `limit`, every
 * assignment in one reply — which passes NATS's 1 MB payload limit at about 5,000 roles.
 */
export class NodeRolesRequestV1 extends PartitionPageV1 {
  @Matches(TOKEN_PATTERN)
  nodeId!: string;
}

export interface NodeRolesReplyV1 {
  assignments: RoleAssignmentV1[];
  /** Asked with `limit`: where the next page starts, null on the last page. */
  next?: PartitionCursorV1 | null;
}

/** One role a node must take for one partition, fenced by the leader epoch. */
export class RoleAssignmentV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitionCount!: number;

  @IsIn(REPLICA_ROLES as unknown as string[])
  role!: ReplicaRole;

  @IsOptional()
  @Matches(TOKEN_PATTERN)
  leader!: string | null;

  /** Decimal string: epochs are bigint. */
  @Matches(/^[0-9]{1,19}$/)
  leaderEpoch!: string;

  @IsArray()
  @ArrayMaxSize(MAX_REPLICATION_FACTOR)
  @Matches(TOKEN_PATTERN, { each: true })
  isr!: string[];

  @IsArray()
  @ArrayMaxSize(MAX_REPLICATION_FACTOR * 2)
  @Matches(TOKEN_PATTERN, { each: true })
  replicas!: string[];

  /** Orders changes within one leader epoch (ISR changes, reassignments); decimal string. */
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/)
  partitionEpoch?: string | null;

  /**
   * The leader epoch the partition was created at; decimal string. A node's log with records of
   * a lower epoch was left by a deleted resource of the same name (epochs of a name only grow),
   * and is discarded. Absent for partitions created before consensus kept it.
   */
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/)
  createdEpoch?: string | null;
}

/** `node.<nodeId>.role.assign`: consensus → node. */
export class AssignRolesCommandV1 {
  @Matches(TOKEN_PATTERN)
  nodeId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_PARTITIONS)
  @ValidateNested({ each: true })
  @Type(() => RoleAssignmentV1)
  assignments!: RoleAssignmentV1[];
}

export interface AssignRolesReplyV1 {
  accepted: number;
  /** Assignments refused because the node has seen a higher epoch. */
  rejected: { resource: string; partition: number; highestEpoch: string }[];
}

/**
 * `consensus.partition.isr` (AlterPartition): replication proposes a new ISR for one partition,
 * compare-and-set on the partition epoch it last saw. The leader must stay in the ISR.
 */
export class AlterIsrRequestV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REPLICATION_FACTOR)
  @Matches(TOKEN_PATTERN, { each: true })
  isr!: string[];

  /** The partition epoch the proposal was computed from (decimal string). */
  @Matches(/^[0-9]{1,19}$/)
  partitionEpoch!: string;
}

export interface AlterIsrReplyV1 {
  state: PartitionStateV1;
}

/** One partition's new replica list (preferred leader first). */
export class PartitionReassignmentV1 {
  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REPLICATION_FACTOR * 2)
  @Matches(TOKEN_PATTERN, { each: true })
  replicas!: string[];
}

/**
 * `consensus.partition.reassign`: the coordinator changes replica lists (make before break:
 * first the union of old and new, later the target). Added replicas join as followers outside
 * the ISR until they catch up; removed ones leave the ISR. The leader must stay a replica: move
 * leadership first.
 */
export class ReassignPartitionsRequestV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PARTITIONS)
  @ValidateNested({ each: true })
  @Type(() => PartitionReassignmentV1)
  reassignments!: PartitionReassignmentV1[];
}

export interface ReassignPartitionsReplyV1 {
  changed: number;
  states: PartitionStateV1[];
}

/** One leader move: hand leadership to an in-sync replica (epoch + 1). */
export class MoveLeaderRequestV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @Matches(TOKEN_PATTERN)
  leader!: string;
}

/** Most moves in one `consensus.partition.leader.moves` request (one transaction at most). */
export const MAX_LEADER_MOVES = 1_000;

/**
 * `consensus.partition.leader.moves`: several leader moves (a drain's handoff) committed together
 * — one transaction, one epoch + 1 per moved partition, one announcement — and answered one by
 * one, in request order. A partition named twice is moved by its first entry; the second is
 * checked against the result.
 */
export class MoveLeadersRequestV1 {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LEADER_MOVES)
  @ValidateNested({ each: true })
  @Type(() => MoveLeaderRequestV1)
  moves!: MoveLeaderRequestV1[];
}

/** Each move's own answer: its new (or unchanged) state, or why it was refused. */
export type LeaderMoveResultV1 =
  { ok: true; state: PartitionStateV1 } | { ok: false; code: ErrorCode; message: string };

export interface MoveLeadersReplyV1 {
  results: LeaderMoveResultV1[];
}
