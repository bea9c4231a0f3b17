import { MAP_EVENT_MAX_ENTRIES, type MapChangeV1, mapVersionMessages } from './events';

const change = (partition: number): MapChangeV1 => ({
  resource: 'orders',
  partition,
  leader: 'n1',
  epoch: 2,
  isr: ['n1'],
  replicas: ['n1', 'n2'],
});

describe(mapVersionMessages.name, () => {
  it('carries a version that fits one message inline in events.map, with no chunks', () => {
    const changes = Array.from({ length: MAP_EVENT_MAX_ENTRIES }, (_, p) => change(p));
    const { chunks, announce } = mapVersionMessages(7, changes);
    expect(chunks).toEqual([]);
    expect(announce).toEqual({
      version: 7,
      changes: 1_000,
      full: false,
      reason: 'PARTITIONS_CHANGED',
      partitions: changes,
    });
  });

  it('splits a larger version into numbered chunks, in order, and announces how many', () => {
    const changes = Array.from({ length: 2_001 }, (_, p) => change(p));
    const { chunks, announce } = mapVersionMessages(9, changes);
    expect(announce).toEqual({
      version: 9,
      changes: 2_001,
      full: false,
      reason: 'PARTITIONS_CHANGED',
      chunks: 3,
    });
    expect(chunks.map((c) => [c.version, c.chunk, c.chunks, c.partitions.length])).toEqual([
      [9, 0, 3, 1_000],
      [9, 1, 3, 1_000],
      [9, 2, 3, 1],
    ]);
    expect(chunks.flatMap((c) => c.partitions)).toEqual(changes);
  });

  it('takes a smaller chunk size (tests use it to split small versions)', () => {
    const { chunks, announce } = mapVersionMessages(1, [change(0), change(1), change(2)], 2);
    expect(announce.chunks).toBe(2);
    expect(chunks.map((c) => c.partitions.map((p) => p.partition))).toEqual([[0, 1], [2]]);
  });
});
