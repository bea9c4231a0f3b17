import {
  MAP_EVENT_MAX_BYTES,
  MAP_EVENT_MAX_ENTRIES,
  type MapChangeV1,
  mapVersionMessages,
} from './events';

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
    const { chunks, announce } = mapVersionMessages(1, [change(0), change(1), change(2)], {
      maxEntries: 2,
    });
    expect(announce.chunks).toBe(2);
    expect(chunks.map((c) => c.partitions.map((p) => p.partition))).toEqual([[0, 1], [2]]);
  });

  it('splits by bytes too: the largest entries (64-character names, RF 7) stay under the limit', () => {
    const name = (prefix: string, i: number) => `${prefix}${String(i)}`.padEnd(64, 'x');
    const nodes = Array.from({ length: 7 }, (_, i) => name('node-', i));
    const big = Array.from({ length: 1_000 }, (_, p) => ({
      resource: name('resource-', 0),
      partition: p,
      leader: nodes[0],
      epoch: 123_456,
      isr: nodes,
      replicas: nodes,
    }));
    const { chunks, announce } = mapVersionMessages(3, big);
    expect(announce.partitions).toBeUndefined();
    expect(chunks.length).toBeGreaterThan(1);
    expect(announce.chunks).toBe(chunks.length);
    for (const c of chunks) {
      expect(JSON.stringify(c.partitions).length).toBeLessThanOrEqual(MAP_EVENT_MAX_BYTES);
    }
    expect(chunks.flatMap((c) => c.partitions)).toEqual(big);
  });
});
