import fc from 'fast-check';
import { type PartitionStateV1 } from '@tessera/contracts';
import { admit, nodesOf, phaseOf, type PlannedMove, unionReplicas } from './migration-phase';

const state = (replicas: string[], leader: string | null, isr: string[]): PartitionStateV1 => ({
  resource: 'r',
  partition: 0,
  replicas,
  leader,
  isr,
  leaderEpoch: '1',
  partitionEpoch: '1',
});

describe(phaseOf.name, () => {
  const move: PlannedMove = { resource: 'r', partition: 0, from: ['a', 'b', 'c'], to: ['d', 'b', 'c'] };

  it('walks add → wait → leadership → remove → done, make before break', () => {
    expect(phaseOf(move, state(['a', 'b', 'c'], 'a', ['a', 'b', 'c']))).toBe('ADD');
    expect(phaseOf(move, state(['d', 'b', 'c', 'a'], 'a', ['b', 'c', 'a']))).toBe('WAIT_IN_SYNC');
    expect(phaseOf(move, state(['d', 'b', 'c', 'a'], 'a', ['d', 'b', 'c', 'a']))).toBe('MOVE_LEADERSHIP');
    expect(phaseOf(move, state(['d', 'b', 'c', 'a'], 'd', ['d', 'b', 'c', 'a']))).toBe('REMOVE');
    expect(phaseOf(move, state(['d', 'b', 'c'], 'd', ['d', 'b', 'c']))).toBe('DONE');
  });

  it('never removes a replica before the target is fully in sync', () => {
    fc.assert(
      fc.property(
        fc.subarray(['a', 'b', 'c', 'd', 'e'], { minLength: 1 }),
        fc.subarray(['a', 'b', 'c', 'd', 'e']),
        fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        (replicas, isrPick, leader) => {
          const isr = replicas.filter((n) => isrPick.includes(n) || n === leader);
          const s = state(replicas.includes(leader) ? replicas : [leader, ...replicas], leader, isr.includes(leader) ? isr : [leader, ...isr]);
          if (phaseOf(move, s) === 'REMOVE') {
            expect(move.to.every((n) => s.isr.includes(n))).toBe(true);
            expect(s.leader).toBe(move.to[0]);
          }
        },
      ),
    );
  });

  it('waits while the partition has no leader', () => {
    expect(phaseOf(move, state(['a', 'b', 'c'], null, ['a']))).toBe('OFFLINE');
  });

  it('puts the target first in the union', () => {
    expect(unionReplicas(move, state(['a', 'b', 'c'], 'a', ['a']))).toEqual(['d', 'b', 'c', 'a']);
  });
});

describe(admit.name, () => {
  it('keeps started moves and admits new ones within the per-node and cluster limits', () => {
    const moves = [
      { key: '1', nodes: ['a', 'd'], started: false },
      { key: '2', nodes: ['a', 'e'], started: false },
      { key: '3', nodes: ['a', 'f'], started: true },
      { key: '4', nodes: ['b', 'g'], started: false },
    ];
    expect([...admit(moves, { maxMovesPerNode: 2, maxMovesPerCluster: 10 })].sort()).toEqual(['1', '3', '4']);
    expect([...admit(moves, { maxMovesPerNode: 2, maxMovesPerCluster: 2 })].sort()).toEqual(['1', '3']);
  });
});

describe(nodesOf.name, () => {
  it('counts the nodes receiving a copy and the leader serving it, not the replica dropped', () => {
    const move: PlannedMove = { resource: 'r', partition: 0, from: ['dead', 'b', 'c'], to: ['b', 'c', 'e'] };
    expect(nodesOf(move, 'b')).toEqual(['e', 'b']);
    expect(nodesOf(move, null)).toEqual(['e']);
  });

  it('counts nothing for a move that only drops or reorders replicas', () => {
    expect(nodesOf({ resource: 'r', partition: 0, from: ['a', 'b', 'c'], to: ['b', 'a'] }, 'a')).toEqual([]);
  });
});
