import { PlacementError } from './placement-error';
import { isEligibleState, type NormalNode, type NormalResource } from './validate';

/** The nodes one resource may use, grouped into fault domains. Indices are local (0..n-1). */
export interface ResourceTopology {
  /** Eligible nodes, in id order. */
  nodes: NormalNode[];
  /** Global node index → local index, or -1 when the node is not eligible for this resource. */
  localOf: Int32Array;
  domainOf: Int32Array;
  domainNames: string[];
  domainNodes: number[][];
  /**
   * Most replicas of one partition a domain may hold: 1 when there are at least RF domains,
   * otherwise the smallest cap that still fits RF replicas (spread as evenly as domains allow).
   */
  perDomainCap: number;
  warnings: string[];
}

const NO_DOMAIN = '(none)';

function domainKey(node: NormalNode, resource: NormalResource): string {
  switch (resource.spreadBy) {
    case 'zone':
      return node.zone ?? NO_DOMAIN;
    case 'rack':
      // Rack names are only unique inside a zone.
      return node.rack === undefined ? NO_DOMAIN : `${node.zone ?? ''}/${node.rack}`;
    case 'none':
      return node.id;
  }
}

export function buildTopology(allNodes: NormalNode[], resource: NormalResource): ResourceTopology {
  const { name, replicationFactor: rf, requireTags } = resource;
  const alive = allNodes.filter((n) => isEligibleState(n.state));
  for (const tag of requireTags) {
    if (!alive.some((n) => n.tags.has(tag))) {
      throw new PlacementError(
        'UNSATISFIABLE',
        'requireTags',
        `resource '${name}': no eligible node carries required tag '${tag}'`,
      );
    }
  }
  const nodes = alive.filter((n) => requireTags.every((t) => n.tags.has(t)));
  if (nodes.length < rf) {
    const tags = requireTags.length > 0 ? ` with tags [${requireTags.join(', ')}]` : '';
    throw new PlacementError(
      'UNSATISFIABLE',
      'replicationFactor',
      `resource '${name}': replicationFactor ${rf} needs ${rf} distinct nodes but only ${nodes.length} eligible node(s)${tags} exist`,
    );
  }

  const localOf = new Int32Array(allNodes.length).fill(-1);
  const domainOf = new Int32Array(nodes.length);
  const domainIds = new Map<string, number>();
  const domainNames: string[] = [];
  const domainNodes: number[][] = [];
  nodes.forEach((node, local) => {
    localOf[node.index] = local;
    const key = domainKey(node, resource);
    let d = domainIds.get(key);
    if (d === undefined) {
      d = domainNames.length;
      domainIds.set(key, d);
      domainNames.push(key);
      domainNodes.push([]);
    }
    domainOf[local] = d;
    domainNodes[d].push(local);
  });

  // Smallest t with Σ min(t, |domain|) ≥ RF: the most even spread the domains allow.
  let perDomainCap = 1;
  const fits = (t: number): boolean =>
    domainNodes.reduce((sum, members) => sum + Math.min(t, members.length), 0) >= rf;
  while (!fits(perDomainCap)) perDomainCap++;

  const warnings: string[] = [];
  if (perDomainCap > 1 && resource.spreadBy !== 'none') {
    warnings.push(
      `resource '${name}': spreadBy ${resource.spreadBy} wants ${rf} distinct ${resource.spreadBy}s but only ${domainNames.length} are eligible; up to ${perDomainCap} replicas of a partition share one ${resource.spreadBy}`,
    );
  }
  return { nodes, localOf, domainOf, domainNames, domainNodes, perDomainCap, warnings };
}
