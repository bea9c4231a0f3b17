import type { PlacementInput, PlacementNode, PlacementResult } from '../lib/types';

const ELIGIBLE = new Set(['ALIVE', 'SUSPECT', undefined]);

function domainOf(node: PlacementNode, spreadBy: 'zone' | 'rack' | 'none'): string {
  switch (spreadBy) {
    case 'zone':
      return node.zone ?? '(none)';
    case 'rack':
      return node.rack === undefined ? '(none)' : `${node.zone ?? ''}/${node.rack}`;
    case 'none':
      return node.id;
  }
}

/**
 * Hard-constraint violations of a result, as readable strings (empty = all met). Written
 * independently of the planner so tests do not trust its own bookkeeping.
 */
export function hardConstraintViolations(input: PlacementInput, result: PlacementResult): string[] {
  const problems: string[] = [];
  const byId = new Map(input.nodes.map((n) => [n.id, n]));
  for (const resource of input.resources) {
    const rows = result.assignment[resource.name];
    const rf = resource.replicationFactor;
    const spreadBy = resource.placement?.spreadBy ?? 'zone';
    const tags = resource.placement?.requireTags ?? [];
    if (rows === undefined || rows.length !== resource.partitions) {
      problems.push(`${resource.name}: expected ${resource.partitions} partitions`);
      continue;
    }
    const eligible = input.nodes.filter(
      (n) => ELIGIBLE.has(n.state) && tags.every((t) => n.tags?.includes(t)),
    );
    const sizes = new Map<string, number>();
    for (const n of eligible)
      sizes.set(domainOf(n, spreadBy), (sizes.get(domainOf(n, spreadBy)) ?? 0) + 1);
    let cap = 1;
    while ([...sizes.values()].reduce((s, k) => s + Math.min(k, cap), 0) < rf) cap++;

    rows.forEach((row, p) => {
      const where = `${resource.name}[${p}]`;
      if (row.length !== rf) problems.push(`${where}: ${row.length} replicas, want ${rf}`);
      if (new Set(row).size !== row.length) problems.push(`${where}: duplicate node`);
      const perDomain = new Map<string, number>();
      for (const id of row) {
        const node = byId.get(id);
        if (node === undefined) {
          problems.push(`${where}: unknown node ${id}`);
          continue;
        }
        if (!ELIGIBLE.has(node.state)) problems.push(`${where}: ${id} is ${node.state}`);
        if (!tags.every((t) => node.tags?.includes(t))) problems.push(`${where}: ${id} lacks tags`);
        const d = domainOf(node, spreadBy);
        perDomain.set(d, (perDomain.get(d) ?? 0) + 1);
      }
      for (const [d, k] of perDomain) {
        if (k > cap) problems.push(`${where}: ${k} replicas in ${d}, cap ${cap}`);
      }
    });
  }
  return problems;
}

/** Nodes for tests: `count` nodes round-robin over `zones` zones, ids n000, n001 … */
export function makeNodes(
  count: number,
  zones: number,
  extra: Partial<PlacementNode> = {},
): PlacementNode[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `n${String(i).padStart(3, '0')}`,
    zone: `z${i % zones}`,
    ...extra,
  }));
}
