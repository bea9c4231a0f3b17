import { IsString, MaxLength } from 'class-validator';

export const KV_MAX_KEY_BYTES = 1024;
export const KV_MAX_VALUE_BYTES = 256 * 1024;

/** `kv.<resource>.<partition>.put`: served only by the partition's current leader. */
export class KvPutRequestV1 {
  @IsString()
  @MaxLength(KV_MAX_KEY_BYTES)
  key!: string;

  @IsString()
  @MaxLength(KV_MAX_VALUE_BYTES)
  value!: string;
}

export interface KvPutReplyV1 {
  epoch: string;
  offset: number;
}

/** `kv.<resource>.<partition>.get`. */
export class KvGetRequestV1 {
  @IsString()
  @MaxLength(KV_MAX_KEY_BYTES)
  key!: string;
}

export interface KvGetReplyV1 {
  value: string | null;
  epoch: string;
}
