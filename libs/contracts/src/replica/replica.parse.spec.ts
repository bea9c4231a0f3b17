import 'reflect-metadata';
import fc from 'fast-check';
import { validateContract } from '../common/validate';
import { accepts, epoch, field, offset, record, token } from '../testing/parse.arbitraries';
import { ReplicaFetchBatchReplyV1, ReplicaFetchBatchRequestV1 } from './replica.messages';
import { parseFetchBatchReply, parseFetchBatchRequest } from './replica.parse';

const partitionRequest = record({
  resource: field(token),
  partition: field(fc.nat({ max: 99_999 })),
  leaderEpoch: field(epoch),
  fetchOffset: field(offset),
  lastFetchedEpoch: fc.oneof(field(epoch), fc.constant(null)),
});

const batchRequest = record({
  followerId: field(token),
  partitions: fc.oneof(
    { weight: 8, arbitrary: fc.array(partitionRequest, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant('many') },
  ),
  maxRecords: field(fc.integer({ min: 1, max: 10_000 })),
  maxWaitMs: field(fc.integer({ min: 0, max: 5_000 })),
});

const astral = '\u{1F600}';
const replicaRecord = record({
  offset: field(offset),
  epoch: field(epoch),
  key: field(
    fc.oneof(
      fc.string({ maxLength: 5 }),
      fc.constant(astral.repeat(1024)),
      fc.constant('k'.repeat(1025)),
    ),
  ),
  value: field(fc.string({ maxLength: 5 })),
});

const answer = record({
  resource: field(token),
  partition: field(fc.nat({ max: 99_999 })),
  ok: field(fc.boolean()),
  code: field(fc.constantFrom('NOT_LEADER', 'FENCED', 'STALE_EPOCH', 'NOPE')),
  message: field(fc.string({ maxLength: 10 })),
  leaderEpoch: field(epoch),
  highWatermark: field(offset),
  logEndOffset: field(offset),
  records: fc.oneof(
    { weight: 6, arbitrary: fc.array(replicaRecord, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant({}) },
  ),
  truncateTo: field(offset),
  divergingEpoch: fc.oneof(field(epoch), fc.constant(null)),
});

const batchReply = record({
  partitions: fc.oneof(
    { weight: 8, arbitrary: fc.array(answer, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant(7) },
  ),
});

describe(parseFetchBatchRequest.name, () => {
  it('accepts exactly what the ReplicaFetchBatchRequestV1 class accepts', () => {
    fc.assert(
      fc.property(batchRequest, (value) => {
        expect(accepts(() => parseFetchBatchRequest(value))).toBe(
          accepts(() => validateContract(ReplicaFetchBatchRequestV1, value)),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('returns the request without nulls and names the first problem', () => {
    const request = {
      followerId: 'kv-b',
      maxRecords: 10,
      partitions: [
        {
          resource: 'orders',
          partition: 1,
          leaderEpoch: '2',
          fetchOffset: 0,
          lastFetchedEpoch: null,
        },
      ],
    };
    expect(parseFetchBatchRequest(request)).toEqual({
      followerId: 'kv-b',
      maxRecords: 10,
      partitions: [{ resource: 'orders', partition: 1, leaderEpoch: '2', fetchOffset: 0 }],
    });
    expect(() =>
      parseFetchBatchRequest({
        ...request,
        partitions: [{ ...request.partitions[0], fetchOffset: -1 }],
      }),
    ).toThrow(/partitions\.0\.fetchOffset/);
  });
});

describe(parseFetchBatchReply.name, () => {
  it('accepts exactly what the ReplicaFetchBatchReplyV1 class accepts', () => {
    fc.assert(
      fc.property(batchReply, (value) => {
        expect(accepts(() => parseFetchBatchReply(value))).toBe(
          accepts(() => validateContract(ReplicaFetchBatchReplyV1, value)),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('counts a surrogate pair as one character, as @MaxLength does', () => {
    const reply = {
      partitions: [
        {
          resource: 'orders',
          partition: 0,
          ok: true,
          records: [{ offset: 0, epoch: '1', key: astral.repeat(1024), value: 'v' }],
        },
      ],
    };
    expect(parseFetchBatchReply(reply).partitions[0].records?.[0].key).toHaveLength(2048);
  });
});
