import { MAX_PARTITIONS, MAX_REPLICATION_FACTOR, TOKEN_PATTERN } from '../common/identifiers';
import { EPOCH_PATTERN, array, int, matches, object, oneOf, strings } from '../common/parse';
import { REPLICA_ROLES } from '../common/states';
import { type AssignRolesCommandV1, type RoleAssignmentV1 } from './partition.messages';

/*
 * Hand-written validator of AssignRolesCommandV1 (role commands and reconcile pages carry
 * thousands of assignments a second at scale): it accepts exactly what `validateContract`
 * accepts (a property test holds it to it) and returns the same values, at a fraction of the
 * cost. One deliberate difference: an item that is itself an array is refused (class-validator
 * validates its elements in its place, and hands back an array as an assignment).
 */

const COMMAND_FIELDS = new Set(['nodeId', 'assignments']);
const ASSIGNMENT_FIELDS = new Set([
  'resource',
  'partition',
  'partitionCount',
  'role',
  'leader',
  'leaderEpoch',
  'isr',
  'replicas',
  'partitionEpoch',
  'createdEpoch',
]);

/** As validateContract returns it: an absent `leader` stays absent (readers use `?? null`). */
type Assignment = Omit<RoleAssignmentV1, 'leader'> & { leader?: string | null };

function parseAssignment(item: unknown, path: string): RoleAssignmentV1 {
  const a = object(item, path, ASSIGNMENT_FIELDS);
  const assignment: Assignment = {
    resource: matches(a['resource'], `${path}.resource`, TOKEN_PATTERN),
    partition: int(a['partition'], `${path}.partition`, 0, MAX_PARTITIONS - 1),
    partitionCount: int(a['partitionCount'], `${path}.partitionCount`, 1, MAX_PARTITIONS),
    role: oneOf(a['role'], `${path}.role`, REPLICA_ROLES),
    leaderEpoch: matches(a['leaderEpoch'], `${path}.leaderEpoch`, EPOCH_PATTERN),
    isr: strings(a['isr'], `${path}.isr`, MAX_REPLICATION_FACTOR, TOKEN_PATTERN),
    replicas: strings(a['replicas'], `${path}.replicas`, MAX_REPLICATION_FACTOR * 2, TOKEN_PATTERN),
  };
  // @IsOptional: null is kept as validateContract keeps it; absent stays absent.
  const leader = a['leader'];
  if (leader !== undefined)
    assignment.leader = leader === null ? null : matches(leader, `${path}.leader`, TOKEN_PATTERN);
  const partitionEpoch = a['partitionEpoch'];
  if (partitionEpoch !== undefined)
    assignment.partitionEpoch =
      partitionEpoch === null
        ? null
        : matches(partitionEpoch, `${path}.partitionEpoch`, EPOCH_PATTERN);
  const createdEpoch = a['createdEpoch'];
  if (createdEpoch !== undefined)
    assignment.createdEpoch =
      createdEpoch === null ? null : matches(createdEpoch, `${path}.createdEpoch`, EPOCH_PATTERN);
  return assignment as RoleAssignmentV1;
}

/** Validates a role command, or a reconcile page wrapped as one (see AssignRolesCommandV1). */
export function parseAssignRoles(value: unknown): AssignRolesCommandV1 {
  const o = object(value, 'AssignRolesCommandV1', COMMAND_FIELDS);
  const nodeId = matches(o['nodeId'], 'nodeId', TOKEN_PATTERN);
  const list = array(o['assignments'], 'assignments', 0, MAX_PARTITIONS);
  const assignments: RoleAssignmentV1[] = [];
  for (let i = 0; i < list.length; i++)
    assignments.push(parseAssignment(list[i], `assignments.${i}`));
  return { nodeId, assignments };
}
