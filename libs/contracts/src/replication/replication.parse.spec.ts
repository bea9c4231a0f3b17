import 'reflect-metadata';
import fc from 'fast-check';
import { validateContract } from '../common/validate';
import {
  asJson,
  assertSameAsContract,
  epoch,
  field,
  list,
  offset,
  record,
  role,
  token,
} from '../testing/parse.arbitraries';
import { ReplicaReportV1 } from './replication.messages';
import { parseReplicaReport } from './replication.parse';

// No @Max on offsets: anything integral from 0 up passes, unsafe integers included.
const position = record({
  resource: field(token),
  partition: field(fc.oneof(fc.nat({ max: 99_999 }), fc.constant(99_999))),
  role: field(role),
  leaderEpoch: field(epoch),
  logEndOffset: field(fc.oneof(offset, fc.constant(2 ** 60))),
  highWatermark: fc.oneof(field(offset), fc.constant(null)),
});
const report = record({
  nodeId: field(token),
  replicas: list(position),
  partial: fc.oneof(field(fc.boolean()), fc.constant(undefined)),
});

const leader = {
  resource: 'orders',
  partition: 3,
  role: 'LEADER',
  leaderEpoch: '2',
  logEndOffset: 10,
  highWatermark: 8,
};

describe(parseReplicaReport.name, () => {
  it('accepts exactly what the ReplicaReportV1 class accepts, and returns the same values', () => {
    assertSameAsContract(ReplicaReportV1, parseReplicaReport, report);
  });

  it('keeps a null highWatermark and leaves an absent one absent, as validateContract does', () => {
    const { highWatermark: _, ...follower } = { ...leader, role: 'FOLLOWER' };
    const value = { nodeId: 'n1', replicas: [{ ...leader, highWatermark: null }, follower] };
    const parsed = parseReplicaReport(value);
    expect(parsed.replicas[0].highWatermark).toBeNull();
    expect('highWatermark' in parsed.replicas[1]).toBe(false);
    expect(asJson(parsed)).toEqual(asJson(validateContract(ReplicaReportV1, value)));
  });

  it('names the path of the first problem', () => {
    const bad = (replica: object) => () =>
      parseReplicaReport({ nodeId: 'n1', replicas: [replica] });
    expect(bad({ ...leader, extra: 1 })).toThrow(/replicas\.0\.extra: unknown property/);
    expect(bad({ ...leader, role: 'BOSS' })).toThrow(/replicas\.0\.role/);
    expect(bad({ ...leader, logEndOffset: -1 })).toThrow(/replicas\.0\.logEndOffset/);
  });

  it('refuses an item that is an array, which class-validator lets through', () => {
    const value = { nodeId: 'n1', replicas: [[leader]] };
    expect(() => validateContract(ReplicaReportV1, value)).not.toThrow();
    expect(() => parseReplicaReport(value)).toThrow(/replicas\.0: expected a JSON object/);
  });
});
