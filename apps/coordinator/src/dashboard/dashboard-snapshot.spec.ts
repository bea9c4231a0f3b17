import { type MapViewV1, type NodeViewV1, type OperationV1 } from '@tessera/contracts';
import { buildSnapshot, selectOperations, summarize } from './dashboard-snapshot';

const node = (id: string, state: NodeViewV1['state']): NodeViewV1 => ({
  id,
  zone: 'z1',
  rack: 'r1',
  capacity: 1,
  tags: [],
  state,
  lastHeartbeatAt: null,
});

const op = (
  id: string,
  state: OperationV1['state'],
  startedAt: string,
  finishedAt: string | null = null,
): OperationV1 => ({
  id,
  kind: 'CREATE_RESOURCE',
  state,
  subject: 'orders',
  progress: { done: 0, total: 4 },
  startedAt,
  finishedAt,
  error: null,
});

const map: MapViewV1 = {
  version: 7,
  resources: [
    {
      name: 'orders',
      partitionCount: 4,
      partitions: [
        { partition: 0, replicas: ['a', 'b', 'c'], leader: 'a', epoch: 1, isr: ['a', 'b', 'c'] },
        { partition: 1, replicas: ['b', 'c', 'a'], leader: 'b', epoch: 2, isr: ['b', 'c'] },
        { partition: 2, replicas: ['c', 'a', 'b'], leader: null, epoch: 3, isr: [] },
        { partition: 3, replicas: ['a', 'b', 'c'], leader: 'c', epoch: 2, isr: ['c', 'b', 'a'] },
      ],
    },
    {
      name: 'users',
      partitionCount: 1,
      partitions: [{ partition: 0, replicas: ['a'], leader: 'a', epoch: 1, isr: ['a'] }],
    },
  ],
};

describe('dashboard snapshot', () => {
  describe(summarize.name, () => {
    it('counts nodes by state, every state present', () => {
      const sut = summarize(
        [node('a', 'ALIVE'), node('b', 'DEAD'), node('c', 'ALIVE'), node('d', 'DRAINING')],
        map,
        [],
      );
      expect(sut.nodes).toEqual({ ALIVE: 2, SUSPECT: 0, DEAD: 1, DRAINING: 1, LEFT: 0 });
    });

    it('counts led, under-replicated (led, ISR short of the replicas) and offline (no leader) partitions', () => {
      const sut = summarize([], map, []);
      expect(sut.partitions).toEqual({ total: 5, led: 4, underReplicated: 1, offline: 1 });
    });

    it('counts running and pending operations only', () => {
      const ops = [
        op('1', 'RUNNING', '2024-01-01T00:00:00Z'),
        op('2', 'PENDING', '2024-01-01T00:00:01Z'),
        op('3', 'FAILED', '2024-01-01T00:00:02Z'),
      ];
      expect(summarize([], { version: 0, resources: [] }, ops).operationsRunning).toBe(2);
    });
  });

  describe(selectOperations.name, () => {
    it('puts running operations first, oldest first, then the newest finished ones up to the limit', () => {
      const ops = [
        op('done-old', 'SUCCEEDED', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01Z'),
        op('run-new', 'RUNNING', '2024-01-01T00:00:09Z'),
        op('done-new', 'FAILED', '2024-01-01T00:00:02Z', '2024-01-01T00:00:08Z'),
        op('run-old', 'RUNNING', '2024-01-01T00:00:03Z'),
        op('done-mid', 'SUCCEEDED', '2024-01-01T00:00:04Z', '2024-01-01T00:00:05Z'),
      ];
      expect(selectOperations(ops, 2).map((o) => o.id)).toEqual([
        'run-old',
        'run-new',
        'done-new',
        'done-mid',
      ]);
    });
  });

  describe(buildSnapshot.name, () => {
    it('carries the server time, the cluster and the summary beside the raw views', () => {
      const nodes = [node('a', 'ALIVE')];
      const sut = buildSnapshot({
        cluster: 'c1',
        at: new Date('2024-05-01T10:00:00Z'),
        nodes,
        map,
        resources: [],
        operations: [],
      });
      expect(sut).toMatchObject({
        cluster: 'c1',
        at: '2024-05-01T10:00:00.000Z',
        nodes,
        map,
        resources: [],
        operations: [],
      });
      expect(sut.summary.partitions.total).toBe(5);
    });
  });
});
