import { MAX_PARTITIONS, TOKEN_PATTERN } from '../common/identifiers';
import { EPOCH_PATTERN, array, bool, int, matches, object, oneOf } from '../common/parse';
import { REPLICA_ROLES } from '../common/states';
import { type ReplicaPositionV1, type ReplicaReportV1 } from './replication.messages';

/*
 * Hand-written validator of ReplicaReportV1 (every node sends thousands of positions every few
 * seconds): it accepts exactly what `validateContract` accepts (a property test holds it to it)
 * and returns the same values, at a fraction of the cost. One deliberate difference: an item
 * that is itself an array is refused (class-validator validates its elements in its place).
 */

const REPORT_FIELDS = new Set(['nodeId', 'replicas', 'partial']);
const POSITION_FIELDS = new Set([
  'resource',
  'partition',
  'role',
  'leaderEpoch',
  'logEndOffset',
  'highWatermark',
]);

function parsePosition(item: unknown, path: string): ReplicaPositionV1 {
  const p = object(item, path, POSITION_FIELDS);
  const position: ReplicaPositionV1 = {
    resource: matches(p['resource'], `${path}.resource`, TOKEN_PATTERN),
    partition: int(p['partition'], `${path}.partition`, 0, MAX_PARTITIONS - 1),
    role: oneOf(p['role'], `${path}.role`, REPLICA_ROLES),
    leaderEpoch: matches(p['leaderEpoch'], `${path}.leaderEpoch`, EPOCH_PATTERN),
    logEndOffset: int(p['logEndOffset'], `${path}.logEndOffset`, 0, Infinity),
  };
  // @IsOptional: null is kept as validateContract keeps it; absent stays absent.
  const highWatermark = p['highWatermark'];
  if (highWatermark !== undefined)
    position.highWatermark =
      highWatermark === null ? null : int(highWatermark, `${path}.highWatermark`, 0, Infinity);
  return position;
}

/** Validates a node's replica report (see ReplicaReportV1). */
export function parseReplicaReport(value: unknown): ReplicaReportV1 {
  const o = object(value, 'ReplicaReportV1', REPORT_FIELDS);
  const nodeId = matches(o['nodeId'], 'nodeId', TOKEN_PATTERN);
  const list = array(o['replicas'], 'replicas', 0, MAX_PARTITIONS);
  const replicas: ReplicaPositionV1[] = [];
  for (let i = 0; i < list.length; i++) replicas.push(parsePosition(list[i], `replicas.${i}`));
  const report: ReplicaReportV1 = { nodeId, replicas };
  // @IsOptional: null is kept as validateContract keeps it; absent stays absent.
  const partial = o['partial'];
  if (partial !== undefined) report.partial = partial === null ? null : bool(partial, 'partial');
  return report;
}
