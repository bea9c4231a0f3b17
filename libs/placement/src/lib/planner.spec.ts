import { balanceStats } from './balance-stats';
import { PlacementError } from './placement-error';
import { planPlacement } from './planner';
import { hardConstraintViolations, makeNodes } from '../testing/invariants';
import type { PlacementInput } from './types';

describe(planPlacement.name, () => {
  const orders = { name: 'orders', partitions: 120, replicationFactor: 3 };

  it('places every partition on RF distinct nodes in distinct zones', () => {
    const input: PlacementInput = { nodes: makeNodes(12, 4), resources: [orders] };

    const sut = planPlacement(input);

    expect(hardConstraintViolations(input, sut)).toEqual([]);
    expect(sut.moves).toBe(360);
    expect(sut.plan.createdPartitions).toBe(120);
  });

  it('balances replicas and preferred leaders exactly when the numbers divide', () => {
    const input: PlacementInput = { nodes: makeNodes(12, 4), resources: [orders] };

    const stats = balanceStats(planPlacement(input).assignment, input.nodes);

    expect(stats.replicas.min).toBe(30);
    expect(stats.replicas.max).toBe(30);
    expect(stats.leaders.min).toBe(10);
    expect(stats.leaders.max).toBe(10);
  });

  it('returns the same plan for the same input, whatever the node order', () => {
    const nodes = makeNodes(15, 5);
    const a = planPlacement({ nodes, resources: [orders] });
    const b = planPlacement({ nodes: [...nodes].reverse(), resources: [orders] });

    expect(b.assignment).toEqual(a.assignment);
  });

  it('changes nothing when the assignment in force is already balanced', () => {
    const nodes = makeNodes(12, 4);
    const first = planPlacement({ nodes, resources: [orders] });

    const sut = planPlacement({ nodes, resources: [orders], current: first.assignment });

    expect(sut.moves).toBe(0);
    expect(sut.leaderMoves).toBe(0);
    expect(sut.plan.migrations).toEqual([]);
  });

  it('moves only the replicas of a removed node', () => {
    const nodes = makeNodes(12, 4);
    const first = planPlacement({ nodes, resources: [orders] });
    const gone = nodes[5].id;
    const held = first.assignment['orders'].filter((row) => row.includes(gone)).length;

    const input = {
      nodes: nodes.filter((n) => n.id !== gone),
      resources: [orders],
      current: first.assignment,
    };
    const sut = planPlacement(input);

    expect(hardConstraintViolations(input, sut)).toEqual([]);
    expect(sut.moves).toBe(held);
  });

  it('gives nothing to DEAD, DRAINING or LEFT nodes but still uses SUSPECT ones', () => {
    const nodes = makeNodes(12, 4);
    nodes[0].state = 'DEAD';
    nodes[1].state = 'DRAINING';
    nodes[2].state = 'LEFT';
    nodes[3].state = 'SUSPECT';
    const input = { nodes, resources: [orders] };

    const sut = planPlacement(input);

    const used = new Set(sut.assignment['orders'].flat());
    expect(used.has(nodes[0].id) || used.has(nodes[1].id) || used.has(nodes[2].id)).toBe(false);
    expect(used.has(nodes[3].id)).toBe(true);
    expect(hardConstraintViolations(input, sut)).toEqual([]);
  });

  it('spreads as evenly as it can and warns when there are fewer zones than RF', () => {
    const input: PlacementInput = { nodes: makeNodes(6, 2), resources: [orders] };

    const sut = planPlacement(input);

    expect(hardConstraintViolations(input, sut)).toEqual([]);
    expect(sut.warnings.join('\n')).toMatch(/only 2 are eligible/);
  });

  it('places replicas only on nodes with the required tags', () => {
    const nodes = makeNodes(12, 4).map((n, i) => (i % 2 === 0 ? { ...n, tags: ['ssd'] } : n));
    const input: PlacementInput = {
      nodes,
      resources: [{ ...orders, placement: { spreadBy: 'zone', requireTags: ['ssd'] } }],
    };

    const sut = planPlacement(input);

    expect(hardConstraintViolations(input, sut)).toEqual([]);
  });

  it('shares replicas in proportion to capacity', () => {
    const nodes = makeNodes(6, 3).map((n, i) => ({ ...n, capacity: i < 3 ? 1 : 3 }));

    const stats = balanceStats(planPlacement({ nodes, resources: [orders] }).assignment, nodes);

    expect(stats.replicas.maxDeviation).toBeLessThanOrEqual(1);
  });

  it('builds make-before-break steps for each changed partition', () => {
    const nodes = makeNodes(12, 4);
    const first = planPlacement({ nodes, resources: [orders] });
    const bigger = [...nodes, { id: 'n999', zone: 'z0' }];

    const sut = planPlacement({ nodes: bigger, resources: [orders], current: first.assignment });

    expect(sut.plan.migrations.length).toBeGreaterThan(0);
    for (const m of sut.plan.migrations) {
      const kinds = m.steps.map((s) => s.kind);
      const lastAdd = kinds.lastIndexOf('ADD_REPLICA');
      const firstRemove = kinds.indexOf('REMOVE_REPLICA');
      if (firstRemove >= 0) expect(firstRemove).toBeGreaterThan(lastAdd);
      if (m.added.length > 0) expect(kinds).toContain('WAIT_IN_SYNC');
    }
  });

  describe('errors', () => {
    it('rejects a replication factor larger than the eligible nodes', () => {
      const act = () => planPlacement({ nodes: makeNodes(2, 2), resources: [orders] });

      expect(act).toThrow(PlacementError);
      expect(act).toThrow(/replicationFactor 3 needs 3 distinct nodes/);
    });

    it('names the constraint when a required tag exists on no node', () => {
      let caught: unknown;
      try {
        planPlacement({
          nodes: makeNodes(6, 3),
          resources: [{ ...orders, placement: { requireTags: ['gpu'] } }],
        });
      } catch (error) {
        caught = error;
      }

      expect(caught).toBeInstanceOf(PlacementError);
      expect(caught).toMatchObject({
        code: 'UNSATISFIABLE',
        constraint: 'requireTags',
        name: 'PlacementError',
      });
    });

    it('rejects malformed input as INVALID_INPUT', () => {
      const bad = { nodes: [{ id: 'a' }, { id: 'a' }], resources: [] } as PlacementInput;

      expect(() => planPlacement(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT', constraint: 'nodes' }),
      );
    });

    it.each([
      [{ name: 'x', partitions: 0, replicationFactor: 1 }, 'resources[0].partitions'],
      [{ name: 'x', partitions: 1, replicationFactor: 1.5 }, 'resources[0].replicationFactor'],
    ])('rejects resource %j', (resource, constraint) => {
      expect(() => planPlacement({ nodes: makeNodes(3, 3), resources: [resource] })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT', constraint }),
      );
    });
  });
});
