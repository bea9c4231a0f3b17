import fc from 'fast-check';
import { balanceStats } from './balance-stats';
import { isUnsatisfiable } from './placement-error';
import { planPlacement } from './planner';
import { hardConstraintViolations } from '../testing/invariants';
import type { NodeState, PlacementInput, PlacementNode, PlacementResource } from './types';

const states: NodeState[] = ['ALIVE', 'ALIVE', 'ALIVE', 'SUSPECT', 'DEAD', 'DRAINING', 'LEFT'];

const nodeArb = (i: number): fc.Arbitrary<PlacementNode> =>
  fc
    .record({
      zone: fc.integer({ min: 0, max: 5 }),
      rack: fc.integer({ min: 0, max: 2 }),
      capacity: fc.constantFrom(1, 1, 2, 4),
      ssd: fc.boolean(),
      state: fc.constantFrom(...states),
    })
    .map(({ zone, rack, capacity, ssd, state }) => ({
      id: `n${i}`,
      zone: `z${zone}`,
      rack: `r${rack}`,
      capacity,
      tags: ssd ? ['ssd'] : [],
      state,
    }));

const clusterArb = fc
  .integer({ min: 1, max: 24 })
  .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => nodeArb(i))));

const resourceArb: fc.Arbitrary<PlacementResource> = fc.record({
  name: fc.constant('r'),
  partitions: fc.integer({ min: 1, max: 80 }),
  replicationFactor: fc.integer({ min: 1, max: 4 }),
  placement: fc.record({
    spreadBy: fc.constantFrom('zone' as const, 'rack' as const, 'none' as const),
    requireTags: fc.constantFrom([], ['ssd']),
  }),
});

/** Plans, or returns undefined when the planner (rightly) reports the input unsatisfiable. */
function tryPlan(input: PlacementInput) {
  try {
    return planPlacement(input);
  } catch (error) {
    if (isUnsatisfiable(error)) return undefined;
    throw error;
  }
}

function eligibleCount(input: PlacementInput, resource: PlacementResource): number {
  const tags = resource.placement?.requireTags ?? [];
  return input.nodes.filter(
    (n) => (n.state === 'ALIVE' || n.state === 'SUSPECT') && tags.every((t) => n.tags?.includes(t)),
  ).length;
}

describe('planPlacement properties', () => {
  it('meets every hard constraint, or reports the input unsatisfiable only when it is', () => {
    fc.assert(
      fc.property(clusterArb, resourceArb, (nodes, resource) => {
        const input = { nodes, resources: [resource] };
        const sut = tryPlan(input);
        if (sut === undefined) {
          expect(eligibleCount(input, resource)).toBeLessThan(resource.replicationFactor);
          return;
        }
        expect(hardConstraintViolations(input, sut)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic and independent of node order', () => {
    fc.assert(
      fc.property(clusterArb, resourceArb, (nodes, resource) => {
        const a = tryPlan({ nodes, resources: [resource] });
        const b = tryPlan({ nodes: [...nodes].reverse(), resources: [resource] });
        expect(b?.assignment).toEqual(a?.assignment);
      }),
      { numRuns: 100 },
    );
  });

  // Equal zones: no zone holds more than 1/RF of the capacity, so spread never caps a share.
  it('stays within ±1 replica and leader of the fair share on clusters of equal zones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 3, max: 8 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 }),
        (perZone, zones, partitions, rf) => {
          const count = perZone * zones;
          const nodes = Array.from({ length: count }, (_, i) => ({
            id: `n${i}`,
            zone: `z${i % zones}`,
          }));
          const sut = planPlacement({
            nodes,
            resources: [{ name: 'r', partitions, replicationFactor: rf }],
          });
          const stats = balanceStats(sut.assignment, nodes);
          expect(stats.replicas.maxDeviation).toBeLessThan(1 + 1e-9);
          expect(stats.leaders.maxDeviation).toBeLessThan(1 + 1e-9);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('after random membership changes keeps the hard constraints and moves no more than needed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 5, max: 8 }),
        fc.integer({ min: 10, max: 200 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (perZone, zones, partitions, removals, additions) => {
          const count = perZone * zones;
          const resource = { name: 'r', partitions, replicationFactor: 3 };
          const nodes = Array.from({ length: count }, (_, i) => ({
            id: `n${i}`,
            zone: `z${i % zones}`,
          }));
          const before = planPlacement({ nodes, resources: [resource] });
          const gone = new Set(removals.map((k) => nodes[k % count].id));
          const after = [
            ...nodes.filter((n) => !gone.has(n.id)),
            ...Array.from({ length: additions }, (_, i) => ({
              id: `m${i}`,
              zone: `z${i % zones}`,
            })),
          ];
          // Exact balance needs every zone within 1/RF of the nodes (a zone holds one replica per
          // partition at most). Usually true of 5+ zones of 2+ nodes after ≤ 3 changes, but not
          // when a whole zone is removed and another one grows (seed 1951763864: 3 of 8 nodes).
          const perZoneAfter = new Map<string, number>();
          for (const n of after) perZoneAfter.set(n.zone, (perZoneAfter.get(n.zone) ?? 0) + 1);
          fc.pre(Math.max(...perZoneAfter.values()) * 3 <= after.length);
          const input = { nodes: after, resources: [resource], current: before.assignment };
          const sut = planPlacement(input);

          expect(hardConstraintViolations(input, sut)).toEqual([]);
          const stats = balanceStats(sut.assignment, after);
          expect(stats.replicas.maxDeviation).toBeLessThan(1 + 1e-9);
          // Lower bound on moves: lost replicas, plus what new nodes must receive to reach ⌊share⌋.
          const lost = before.assignment['r'].flat().filter((id) => gone.has(id)).length;
          const share = (partitions * 3) / after.length;
          const bound =
            Math.max(lost, additions * Math.floor(share)) +
            (lost > 0 && additions > 0 ? additions * Math.floor(share) : 0);
          expect(sut.moves).toBeLessThanOrEqual(Math.ceil(1.1 * bound) + 2);
        },
      ),
      { numRuns: 150 },
    );
  });
});
