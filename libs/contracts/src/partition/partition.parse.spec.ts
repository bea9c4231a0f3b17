import 'reflect-metadata';
import fc from 'fast-check';
import { MAX_REPLICATION_FACTOR } from '../common/identifiers';
import { validateContract } from '../common/validate';
import {
  asJson,
  assertSameAsContract,
  epoch,
  field,
  list,
  record,
  role,
  token,
} from '../testing/parse.arbitraries';
import { AssignRolesCommandV1 } from './partition.messages';
import { parseAssignRoles } from './partition.parse';

/** Node lists around their size limit, now and then with a member that is not a token. */
function members(max: number): fc.Arbitrary<unknown[]> {
  const member = fc.oneof(
    { weight: 20, arbitrary: token },
    { weight: 1, arbitrary: fc.constantFrom('a.b', '', 7, null) },
  );
  return fc.oneof(
    fc.array(member, { maxLength: 3 }),
    fc.array(member, { minLength: max - 1, maxLength: max + 1 }),
  );
}
const assignment = record({
  resource: field(token),
  partition: field(fc.oneof(fc.nat({ max: 99_999 }), fc.constant(99_999))),
  partitionCount: field(fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constantFrom(0, 100_001))),
  role: field(role),
  leader: fc.oneof(field(token), fc.constant(null)),
  leaderEpoch: field(epoch),
  isr: field(members(MAX_REPLICATION_FACTOR)),
  replicas: field(members(MAX_REPLICATION_FACTOR * 2)),
  partitionEpoch: fc.oneof(field(epoch), fc.constant(null)),
  createdEpoch: fc.oneof(field(epoch), fc.constant(null)),
});
const command = record({ nodeId: field(token), assignments: list(assignment) });

const follower = {
  resource: 'orders',
  partition: 1,
  partitionCount: 4,
  role: 'FOLLOWER',
  leader: 'n2',
  leaderEpoch: '5',
  isr: ['n2', 'n1'],
  replicas: ['n2', 'n1', 'n3'],
  partitionEpoch: '9',
};
const assign = (...assignments: unknown[]) => ({ nodeId: 'n1', assignments });

describe(parseAssignRoles.name, () => {
  it('accepts exactly what the AssignRolesCommandV1 class accepts, and returns the same values', () => {
    assertSameAsContract(AssignRolesCommandV1, parseAssignRoles, command);
  });

  it('keeps a null leader, and leaves an absent leader, partitionEpoch or createdEpoch absent', () => {
    const { leader: _, partitionEpoch: __, ...bare } = follower;
    const value = assign({ ...follower, role: 'NONE', leader: null, createdEpoch: '3' }, bare);
    const [offline, absent] = parseAssignRoles(value).assignments;
    expect(offline.leader).toBeNull();
    expect(offline.createdEpoch).toBe('3');
    expect('leader' in absent).toBe(false);
    expect('partitionEpoch' in absent).toBe(false);
    expect('createdEpoch' in absent).toBe(false);
    expect(asJson(parseAssignRoles(value))).toEqual(
      asJson(validateContract(AssignRolesCommandV1, value)),
    );
  });

  it('copies the node lists rather than sharing the input arrays', () => {
    const parsed = parseAssignRoles(assign(follower)).assignments[0];
    expect(parsed.isr).toEqual(follower.isr);
    expect(parsed.isr).not.toBe(follower.isr);
  });

  it.each([
    ['an extra property inside an item', { ...follower, extra: 1 }, /assignments\.0\.extra/],
    ['a role outside REPLICA_ROLES', { ...follower, role: 'OBSERVER' }, /assignments\.0\.role/],
    [
      'too many isr entries',
      { ...follower, isr: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] },
      /assignments\.0\.isr/,
    ],
    ['an isr member that is not a token', { ...follower, isr: ['n2', 'a.b'] }, /\.isr\.1/],
    ['a partitionCount of 0', { ...follower, partitionCount: 0 }, /\.partitionCount/],
    ['a createdEpoch that is a number', { ...follower, createdEpoch: 3 }, /\.createdEpoch/],
  ])('refuses %s, as the class does', (_, bad, path) => {
    expect(() => validateContract(AssignRolesCommandV1, assign(bad))).toThrow();
    expect(() => parseAssignRoles(assign(bad))).toThrow(path);
  });

  it('refuses an item that is an array, which class-validator lets through', () => {
    const value = assign([follower]);
    expect(() => validateContract(AssignRolesCommandV1, value)).not.toThrow();
    expect(() => parseAssignRoles(value)).toThrow(/assignments\.0: expected a JSON object/);
  });
});
