import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ERROR_CODES, type ErrorCode } from '../common/errors';
import { MAX_PARTITIONS, TOKEN_PATTERN } from '../common/identifiers';
import { KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES } from '../kv/kv.messages';

/** Most records one fetch may ask for (per partition). */
export const REPLICA_FETCH_MAX_RECORDS = 10_000;
/** Most partitions one batched fetch may carry (keeps requests far below NATS's 1 MB). */
export const REPLICA_FETCH_MAX_PARTITIONS = 2_000;
/** Longest a leader holds a fetch with nothing new. */
export const REPLICA_FETCH_MAX_WAIT_MS = 5_000;

const EPOCH_PATTERN = /^[0-9]{1,19}$/;

// Fast validators of the batched messages (same rules as the classes below).
export * from './replica.parse';

/**
 * `node.<leaderId>.replica.fetch`: a follower pulls the partition's log from its leader
 * (Kafka-style). `fetchOffset` is the follower's durable log end offset: everything below it is
 * on the follower's disk, so the leader counts it as the follower's position for acks.
 * `lastFetchedEpoch` is the epoch of the follower's record at `fetchOffset - 1` (absent when its
 * log is empty); the leader uses it to detect a divergent suffix.
 */
export class ReplicaFetchRequestV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @Matches(TOKEN_PATTERN)
  followerId!: string;

  /** The leader epoch the follower follows at (decimal string). */
  @Matches(EPOCH_PATTERN)
  leaderEpoch!: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  fetchOffset!: number;

  @IsOptional()
  @Matches(EPOCH_PATTERN)
  lastFetchedEpoch?: string | null;

  @IsInt()
  @Min(1)
  @Max(REPLICA_FETCH_MAX_RECORDS)
  maxRecords!: number;
}

/** One log record as replicated: the leader's offset and the epoch it was written under. */
export class ReplicaRecordV1 {
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset!: number;

  @Matches(EPOCH_PATTERN)
  epoch!: string;

  @IsString()
  @MaxLength(KV_MAX_KEY_BYTES)
  key!: string;

  @IsString()
  @MaxLength(KV_MAX_VALUE_BYTES)
  value!: string;
}

/**
 * Reply to a fetch (wire form `{ ok: true, ...ReplicaFetchReplyV1 }`). Either records from
 * `fetchOffset` on (possibly none, after a long-poll of up to ~200 ms), or — when the follower's
 * log diverges from the leader's — `truncateTo` (the end offset, in the leader's log, of the
 * largest epoch ≤ `lastFetchedEpoch`, capped at `fetchOffset`) with that epoch as
 * `divergingEpoch` (null when the leader has no such epoch). The follower truncates to
 * min(`truncateTo`, its own end offset for `divergingEpoch`) and fetches again.
 *
 * Errors `{ ok: false, code }`: STALE_EPOCH (the follower's epoch is older: it must re-reconcile
 * its roles), NOT_LEADER (this node does not lead the partition at that epoch), FENCED (the
 * follower's epoch is newer: the leader is stale and steps down), FORBIDDEN (not a replica),
 * INVALID / INVALID_JSON.
 */
export class ReplicaFetchReplyV1 {
  @Matches(EPOCH_PATTERN)
  leaderEpoch!: string;

  /** Offsets below it are committed (every ISR member has them). */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  highWatermark!: number;

  /** The leader's durable log end offset when the reply was made. */
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  logEndOffset!: number;

  @IsArray()
  @ArrayMaxSize(REPLICA_FETCH_MAX_RECORDS)
  @ValidateNested({ each: true })
  @Type(() => ReplicaRecordV1)
  records!: ReplicaRecordV1[];

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  truncateTo?: number;

  @IsOptional()
  @Matches(EPOCH_PATTERN)
  divergingEpoch?: string | null;
}

/** One partition of a batched fetch: the single-partition request minus what the batch shares. */
export class ReplicaFetchPartitionV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @Matches(EPOCH_PATTERN)
  leaderEpoch!: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  fetchOffset!: number;

  @IsOptional()
  @Matches(EPOCH_PATTERN)
  lastFetchedEpoch?: string | null;
}

/**
 * Batched form of `node.<leaderId>.replica.fetch` (Kafka's fetch session): one request per
 * follower and leader carries every partition the follower follows there, so an idle cluster
 * costs one long-poll per node pair instead of one per partition. The leader answers as soon as
 * any listed partition has something (records, a divergence, an error), else after `maxWaitMs`.
 * Each partition is checked exactly as a single-partition fetch would be.
 */
export class ReplicaFetchBatchRequestV1 {
  @Matches(TOKEN_PATTERN)
  followerId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(REPLICA_FETCH_MAX_PARTITIONS)
  @ValidateNested({ each: true })
  @Type(() => ReplicaFetchPartitionV1)
  partitions!: ReplicaFetchPartitionV1[];

  /** Per partition. */
  @IsInt()
  @Min(1)
  @Max(REPLICA_FETCH_MAX_RECORDS)
  maxRecords!: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(REPLICA_FETCH_MAX_WAIT_MS)
  maxWaitMs?: number;
}

/**
 * One partition's answer in a batched fetch: `ok: true` with the single-partition reply's fields,
 * or `ok: false` with `code` and `message` (the single-partition error codes).
 */
export class ReplicaFetchPartitionReplyV1 {
  @Matches(TOKEN_PATTERN)
  resource!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_PARTITIONS - 1)
  partition!: number;

  @IsBoolean()
  ok!: boolean;

  @IsOptional()
  @IsIn(ERROR_CODES as unknown as string[])
  code?: ErrorCode;

  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  message?: string;

  @IsOptional()
  @Matches(EPOCH_PATTERN)
  leaderEpoch?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  highWatermark?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  logEndOffset?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(REPLICA_FETCH_MAX_RECORDS)
  @ValidateNested({ each: true })
  @Type(() => ReplicaRecordV1)
  records?: ReplicaRecordV1[];

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  truncateTo?: number;

  @IsOptional()
  @Matches(EPOCH_PATTERN)
  divergingEpoch?: string | null;
}

/** Reply to a batched fetch (wire form `{ ok: true, partitions }`), one entry per request entry, in order. */
export class ReplicaFetchBatchReplyV1 {
  @IsArray()
  @ArrayMaxSize(REPLICA_FETCH_MAX_PARTITIONS)
  @ValidateNested({ each: true })
  @Type(() => ReplicaFetchPartitionReplyV1)
  partitions!: ReplicaFetchPartitionReplyV1[];
}
