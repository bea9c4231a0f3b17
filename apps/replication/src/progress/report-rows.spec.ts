import 'reflect-metadata';
import { type ReplicaReportV1, TesseraError } from '@tessera/contracts';
import { reportRows } from './report-rows';

describe(reportRows.name, () => {
  const position = (partition: number, logEndOffset: number, leaderEpoch = '3') => ({
    resource: 'orders',
    partition,
    role: 'FOLLOWER' as const,
    leaderEpoch,
    logEndOffset,
  });

  it('keeps the last position of a replica listed twice, in report order', () => {
    const report: ReplicaReportV1 = {
      nodeId: 'n1',
      replicas: [position(0, 5), position(1, 7), position(0, 9)],
    };
    expect(reportRows(report)).toEqual([
      { resource: 'orders', partition: 1, role: 'FOLLOWER', leaderEpoch: '3', logEndOffset: 7, highWatermark: null },
      { resource: 'orders', partition: 0, role: 'FOLLOWER', leaderEpoch: '3', logEndOffset: 9, highWatermark: null },
    ]);
  });

  it('takes a null high watermark as none, as the contract allows', () => {
    const row = { ...position(0, 4), role: 'LEADER' as const, highWatermark: null };
    expect(reportRows({ nodeId: 'n1', replicas: [row] })[0]?.highWatermark).toBeNull();
  });

  it('normalises epochs with leading zeros', () => {
    expect(reportRows({ nodeId: 'n1', replicas: [position(0, 1, '007')] })[0]!.leaderEpoch).toBe(
      '7',
    );
  });

  it('accepts the largest epoch Postgres can hold and refuses one above it', () => {
    expect(
      reportRows({ nodeId: 'n1', replicas: [position(0, 1, '9223372036854775807')] }),
    ).toHaveLength(1);
    expect(() =>
      reportRows({ nodeId: 'n1', replicas: [position(0, 1, '9223372036854775808')] }),
    ).toThrow(TesseraError);
  });

  it('refuses an offset beyond the safe integer range', () => {
    expect(() => reportRows({ nodeId: 'n1', replicas: [position(0, 2 ** 60)] })).toThrow(
      /logEndOffset/,
    );
  });

  it('returns nothing for an empty report', () => {
    expect(reportRows({ nodeId: 'n1', replicas: [] })).toEqual([]);
  });
});
