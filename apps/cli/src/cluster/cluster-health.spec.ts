import { NOW, node, operation, partition, sampleMap } from '../testing/fixtures';
import { partitionStateOf, summarizeCluster } from './cluster-health';

describe(partitionStateOf.name, () => {
  it('is OFFLINE without a leader, UNDER_REPLICATED with a short ISR, else ONLINE', () => {
    expect(partitionStateOf(partition(0, { leader: null, isr: [] }))).toBe('OFFLINE');
    expect(partitionStateOf(partition(0, { isr: ['n1'] }))).toBe('UNDER_REPLICATED');
    expect(partitionStateOf(partition(0))).toBe('ONLINE');
  });
});

describe(summarizeCluster.name, () => {
  it('counts nodes by state, partitions led / under-replicated / offline, and running operations', () => {
    const nodes = [
      node('n1'),
      node('n2'),
      node('n3', { state: 'DRAINING' }),
      node('n4', { state: 'DEAD' }),
    ];
    const operations = [
      operation({ id: 'a' }),
      operation({ id: 'b', state: 'PENDING' }),
      operation({ id: 'c', state: 'SUCCEEDED', finishedAt: new Date(NOW).toISOString() }),
    ];

    const sut = summarizeCluster('http://x', nodes, sampleMap(), operations);

    expect(sut.nodes).toEqual({
      total: 4,
      byState: { ALIVE: 2, SUSPECT: 0, DRAINING: 1, DEAD: 1, LEFT: 0 },
    });
    // The offline partition has an empty ISR, so it is under-replicated too.
    expect(sut.partitions).toEqual({ total: 4, led: 3, underReplicated: 2, offline: 1 });
    expect(sut.operations.running).toBe(2);
    expect(sut.operations.items.map((op) => op.id)).toEqual(['a', 'b']);
    expect(sut).toMatchObject({ apiUrl: 'http://x', mapVersion: 7, resources: 2, healthy: false });
  });

  it('is healthy when every node is up and every partition fully in sync', () => {
    const map = {
      version: 1,
      resources: [{ name: 'r', partitionCount: 1, partitions: [partition(0)] }],
    };

    const sut = summarizeCluster(
      'http://x',
      [node('n1'), node('n2', { state: 'DRAINING' })],
      map,
      [],
    );

    expect(sut.healthy).toBe(true);
  });
});
