import { explainPlacement } from './explain';
import { planPlacement } from './planner';
import { makeNodes } from '../testing/invariants';

describe(explainPlacement.name, () => {
  const resources = [{ name: 'orders', partitions: 30, replicationFactor: 3 }];

  it('says which replicas were kept, which replace a dead node, and why others were avoided', () => {
    const nodes = makeNodes(9, 3);
    const before = planPlacement({ nodes, resources }).assignment;
    const dead = before['orders'][0][1];
    const after = nodes.map((n) => (n.id === dead ? { ...n, state: 'DEAD' as const } : n));

    const sut = explainPlacement({ nodes: after, resources, current: before }, 'orders', 0);

    expect(sut.removed).toEqual([{ node: dead, reason: 'node is DEAD' }]);
    expect(sut.replicas.filter((r) => r.decision === 'kept')).toHaveLength(2);
    expect(sut.replicas.find((r) => r.decision === 'added')?.reasons[0]).toMatch(/replace .*DEAD/);
    expect(sut.avoided.map((a) => a.reason).join('\n')).toMatch(/state DEAD/);
    expect(sut.constraints[1]).toMatch(/3 distinct zones/);
  });

  it('rejects an unknown resource or partition', () => {
    const input = { nodes: makeNodes(3, 3), resources };

    expect(() => explainPlacement(input, 'nope', 0)).toThrow(/unknown resource/);
    expect(() => explainPlacement(input, 'orders', 30)).toThrow(/partition must be/);
  });
});
