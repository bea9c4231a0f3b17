import { isErrorCode } from '../common/errors';
import { MAX_PARTITIONS, TOKEN_PATTERN } from '../common/identifiers';
import { EPOCH_PATTERN, array, fail, int, matches, object, present, text } from '../common/parse';
import { KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES } from '../kv/kv.messages';
import {
  REPLICA_FETCH_MAX_PARTITIONS,
  REPLICA_FETCH_MAX_RECORDS,
  REPLICA_FETCH_MAX_WAIT_MS,
  type ReplicaFetchBatchReplyV1,
  type ReplicaFetchBatchRequestV1,
  type ReplicaFetchPartitionReplyV1,
  type ReplicaFetchPartitionV1,
  type ReplicaRecordV1,
} from './replica.messages';

/*
 * Hand-written validators for the two replication messages on the hot path (a batched fetch and
 * its answer carry up to thousands of partitions, several times a second): they accept exactly
 * what `validateContract` accepts for ReplicaFetchBatchRequestV1 / ReplicaFetchBatchReplyV1
 * (a property test holds them to it) at a fraction of the cost. Unknown properties are refused,
 * nothing is coerced; a problem throws TesseraError('INVALID') naming the path.
 */

const PARTITION_FIELDS = new Set([
  'resource',
  'partition',
  'leaderEpoch',
  'fetchOffset',
  'lastFetchedEpoch',
]);
const REQUEST_FIELDS = new Set(['followerId', 'partitions', 'maxRecords', 'maxWaitMs']);
const RECORD_FIELDS = new Set(['offset', 'epoch', 'key', 'value']);
const ANSWER_FIELDS = new Set([
  'resource',
  'partition',
  'ok',
  'code',
  'message',
  'leaderEpoch',
  'highWatermark',
  'logEndOffset',
  'records',
  'truncateTo',
  'divergingEpoch',
]);
const REPLY_FIELDS = new Set(['partitions']);

/** Validates a batched fetch request (see ReplicaFetchBatchRequestV1). */
export function parseFetchBatchRequest(value: unknown): ReplicaFetchBatchRequestV1 {
  const o = object(value, 'ReplicaFetchBatchRequestV1', REQUEST_FIELDS);
  const followerId = matches(o['followerId'], 'followerId', TOKEN_PATTERN);
  const list = array(o['partitions'], 'partitions', 1, REPLICA_FETCH_MAX_PARTITIONS);
  const partitions = list.map((item, i): ReplicaFetchPartitionV1 => {
    const path = `partitions.${i}`;
    const p = object(item, path, PARTITION_FIELDS);
    const entry: ReplicaFetchPartitionV1 = {
      resource: matches(p['resource'], `${path}.resource`, TOKEN_PATTERN),
      partition: int(p['partition'], `${path}.partition`, 0, MAX_PARTITIONS - 1),
      leaderEpoch: matches(p['leaderEpoch'], `${path}.leaderEpoch`, EPOCH_PATTERN),
      fetchOffset: int(p['fetchOffset'], `${path}.fetchOffset`, 0, Number.MAX_SAFE_INTEGER),
    };
    if (present(p['lastFetchedEpoch']))
      entry.lastFetchedEpoch = matches(
        p['lastFetchedEpoch'],
        `${path}.lastFetchedEpoch`,
        EPOCH_PATTERN,
      );
    return entry;
  });
  const request: ReplicaFetchBatchRequestV1 = {
    followerId,
    partitions,
    maxRecords: int(o['maxRecords'], 'maxRecords', 1, REPLICA_FETCH_MAX_RECORDS),
  };
  if (present(o['maxWaitMs']))
    request.maxWaitMs = int(o['maxWaitMs'], 'maxWaitMs', 0, REPLICA_FETCH_MAX_WAIT_MS);
  return request;
}

function parseRecord(item: unknown, path: string): ReplicaRecordV1 {
  const r = object(item, path, RECORD_FIELDS);
  return {
    offset: int(r['offset'], `${path}.offset`, 0, Number.MAX_SAFE_INTEGER),
    epoch: matches(r['epoch'], `${path}.epoch`, EPOCH_PATTERN),
    key: text(r['key'], `${path}.key`, KV_MAX_KEY_BYTES),
    value: text(r['value'], `${path}.value`, KV_MAX_VALUE_BYTES),
  };
}

function parseAnswer(item: unknown, path: string): ReplicaFetchPartitionReplyV1 {
  const a = object(item, path, ANSWER_FIELDS);
  if (typeof a['ok'] !== 'boolean') fail(`${path}.ok`, 'expected a boolean');
  const answer: ReplicaFetchPartitionReplyV1 = {
    resource: matches(a['resource'], `${path}.resource`, TOKEN_PATTERN),
    partition: int(a['partition'], `${path}.partition`, 0, MAX_PARTITIONS - 1),
    ok: a['ok'],
  };
  if (present(a['code'])) {
    if (!isErrorCode(a['code'])) fail(`${path}.code`, 'unknown error code');
    answer.code = a['code'];
  }
  if (present(a['message'])) answer.message = text(a['message'], `${path}.message`, 2_000);
  if (present(a['leaderEpoch']))
    answer.leaderEpoch = matches(a['leaderEpoch'], `${path}.leaderEpoch`, EPOCH_PATTERN);
  for (const field of ['highWatermark', 'logEndOffset', 'truncateTo'] as const) {
    if (present(a[field]))
      answer[field] = int(a[field], `${path}.${field}`, 0, Number.MAX_SAFE_INTEGER);
  }
  if (present(a['records'])) {
    const records = array(a['records'], `${path}.records`, 0, REPLICA_FETCH_MAX_RECORDS);
    answer.records = records.map((r, i) => parseRecord(r, `${path}.records.${i}`));
  }
  if (present(a['divergingEpoch']))
    answer.divergingEpoch = matches(a['divergingEpoch'], `${path}.divergingEpoch`, EPOCH_PATTERN);
  return answer;
}

/** Validates a batched fetch reply, `ok` stripped (see ReplicaFetchBatchReplyV1). */
export function parseFetchBatchReply(value: unknown): ReplicaFetchBatchReplyV1 {
  const o = object(value, 'ReplicaFetchBatchReplyV1', REPLY_FIELDS);
  const list = array(o['partitions'], 'partitions', 0, REPLICA_FETCH_MAX_PARTITIONS);
  return { partitions: list.map((item, i) => parseAnswer(item, `partitions.${i}`)) };
}
