import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_PARTITIONS, TOKEN_PATTERN } from '../common/identifiers';
import { KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES } from '../kv/kv.messages';

/** Most records one fetch may ask for. */
export const REPLICA_FETCH_MAX_RECORDS = 10_000;

const EPOCH_PATTERN = /^[0-9]{1,19}$/;

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
