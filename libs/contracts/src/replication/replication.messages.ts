import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_PARTITIONS, TOKEN_PATTERN } from '../common/identifiers';
import { type ReplicaRole, REPLICA_ROLES } from '../common/states';

// Fast validator of the report (same rules as the classes below).
export * from './replication.parse';

export class ReplicaPositionV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @IsIn(REPLICA_ROLES as unknown as string[])
  role!: ReplicaRole;

  @Matches(/^[0-9]{1,19}$/)
  leaderEpoch!: string;

  /** Next offset the replica would write (log end offset), durable on this node. */
  @IsInt()
  @Min(0)
  logEndOffset!: number;

  /** Leaders only: the offset below which every ISR member has the data (committed). */
  @IsOptional()
  @IsInt()
  @Min(0)
  highWatermark?: number | null;
}

/** `replication.replica.report.<nodeId>`: a node's log positions, sent periodically. */
export class ReplicaReportV1 {
  @Matches(TOKEN_PATTERN)
  nodeId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_PARTITIONS)
  @ValidateNested({ each: true })
  @Type(() => ReplicaPositionV1)
  replicas!: ReplicaPositionV1[];

  /**
   * True when the report names only some of the node's replicas (sent out of turn, e.g. for a
   * follower that caught up); absent or false: every replica the node holds, so one it leaves
   * out is no longer held.
   */
  @IsOptional()
  @IsBoolean()
  partial?: boolean | null;
}

export class ListReplicasRequestV1 {
  @IsOptional()
  @Matches(TOKEN_PATTERN)
  resource?: string;
}

export interface ReplicaProgressV1 {
  nodeId: string;
  resource: string;
  partition: number;
  role: ReplicaRole;
  leaderEpoch: string;
  logEndOffset: number;
  /** Offsets behind the partition's leader (null when the leader has not reported). */
  lag: number | null;
  reportedAt: string;
}

export interface ListReplicasReplyV1 {
  replicas: ReplicaProgressV1[];
}
