import { PlacementError } from './placement-error';
import { planInDetail, type ResourcePlan } from './planner';
import type { PlacementInput, SpreadBy } from './types';
import { isEligibleState, type NormalInput, type NormalNode } from './validate';

export interface ReplicaExplanation {
  node: string;
  role: 'leader' | 'follower';
  zone?: string;
  rack?: string;
  /** The fault domain used for spreading (zone, zone/rack, or the node itself). */
  domain: string;
  decision: 'kept' | 'added';
  reasons: string[];
  replicas: number;
  /** [⌊fair share⌋, ⌈fair share⌉]: the planner keeps the node inside this range. */
  replicaTarget: [number, number];
  /** Capacity-proportional share (after spread caps). */
  fairShare: number;
  leaders: number;
  leaderTarget: [number, number];
}

export interface RemovedReplica {
  node: string;
  reason: string;
}

export interface AvoidedNodes {
  reason: string;
  nodes: string[];
}

export interface PlacementExplanation {
  resource: string;
  partition: number;
  replicationFactor: number;
  spreadBy: SpreadBy;
  /** Most replicas of this partition one domain may hold. */
  perDomainCap: number;
  current: string[];
  replicas: ReplicaExplanation[];
  /** Replicas of the assignment in force that the plan takes away, and why. */
  removed: RemovedReplica[];
  /** Hard constraints, each stated as met. */
  constraints: string[];
  /** Nodes that hold no replica of this partition, grouped by why. */
  avoided: AvoidedNodes[];
  warnings: string[];
}

const MAX_LISTED = 20;

/** Why each replica of one partition sits where it does: constraints, load, what was avoided. */
export function explainPlacement(
  input: PlacementInput,
  resource: string,
  partition: number,
): PlacementExplanation {
  const full = planInDetail(input);
  const plan = full.resources.find((r) => r.resource.name === resource);
  if (plan === undefined) {
    throw new PlacementError('INVALID_INPUT', 'resource', `unknown resource '${resource}'`);
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= plan.resource.partitions) {
    throw new PlacementError(
      'INVALID_INPUT',
      'partition',
      `partition must be an integer in [0, ${plan.resource.partitions - 1}] for resource '${resource}'`,
    );
  }
  return explainOne(full.input, plan, partition, full.result.warnings);
}

function explainOne(
  input: NormalInput,
  plan: ResourcePlan,
  partition: number,
  warnings: string[],
): PlacementExplanation {
  const { resource, topology, layout, leaders } = plan;
  const { spreadBy, replicationFactor: rf, requireTags } = resource;
  const row = plan.rows[partition];
  const current = [...(input.current[resource.name]?.[partition] ?? [])];
  const localOfId = (id: string): number => {
    const g = input.nodeIndex.get(id);
    return g === undefined ? -1 : topology.localOf[g];
  };
  const domainName = (local: number): string => topology.domainNames[topology.domainOf[local]];
  const load = (local: number): string =>
    `holds ${layout.counts[local]} replicas, target ${layout.lo[local]}–${layout.hi[local]} (fair share ${layout.share[local].toFixed(2)})`;
  const unit = spreadBy === 'none' ? 'node' : spreadBy;

  const removedIds = current.filter((id) => !row.includes(id));
  const removed = removedIds.map((id): RemovedReplica => {
    const g = input.nodeIndex.get(id);
    if (g === undefined) return { node: id, reason: 'node is no longer in the cluster' };
    const node = input.nodes[g];
    if (!isEligibleState(node.state)) return { node: id, reason: `node is ${node.state}` };
    const missing = requireTags.filter((t) => !node.tags.has(t));
    if (missing.length > 0)
      return { node: id, reason: `node lacks required tag(s) ${missing.join(', ')}` };
    const local = localOfId(id);
    const peers = current.filter((other) => other !== id && localOfId(other) >= 0);
    if (
      peers.some(
        (other) => localOfId(other) >= 0 && domainName(localOfId(other)) === domainName(local),
      ) &&
      topology.perDomainCap === 1
    ) {
      return { node: id, reason: `another replica already sat in ${unit} ${domainName(local)}` };
    }
    return {
      node: id,
      reason: `node was above its fair share; moved to even the load (it now ${load(local)})`,
    };
  });

  const replicas = row.map((id, k): ReplicaExplanation => {
    const local = localOfId(id);
    const node = topology.nodes[local];
    const kept = current.includes(id);
    const reasons: string[] = [];
    if (kept) {
      reasons.push('already held this replica in the assignment in force (kept: no data movement)');
    } else if (current.length === 0) {
      reasons.push(
        `new partition: chosen as one of the nodes furthest below their fair share in an open ${unit}`,
      );
    } else {
      const replaced = removed.map((r) => `${r.node} (${r.reason})`).join('; ');
      reasons.push(
        `added to replace ${replaced || 'a missing replica'}; it was below its fair share`,
      );
    }
    reasons.push(`node ${load(local)}`);
    reasons.push(
      `${unit} ${domainName(local)} holds ${row.filter((o) => domainName(localOfId(o)) === domainName(local)).length} of this partition's replicas (cap ${topology.perDomainCap})`,
    );
    if (k === 0) {
      reasons.push(
        current[0] === id
          ? 'preferred leader kept from the assignment in force'
          : `preferred leader: chosen to even leadership; leads ${leaders.leaderCounts[local]} partitions, target ${leaders.lo[local]}–${leaders.hi[local]}`,
      );
    }
    return {
      node: id,
      role: k === 0 ? 'leader' : 'follower',
      ...(node.zone === undefined ? {} : { zone: node.zone }),
      ...(node.rack === undefined ? {} : { rack: node.rack }),
      domain: domainName(local),
      decision: kept ? 'kept' : 'added',
      reasons,
      replicas: layout.counts[local],
      fairShare: layout.share[local],
      replicaTarget: [layout.lo[local], layout.hi[local]],
      leaders: leaders.leaderCounts[local],
      leaderTarget: [leaders.lo[local], leaders.hi[local]],
    };
  });

  const domains = new Set(row.map((id) => domainName(localOfId(id))));
  const constraints = [
    `${rf} replicas on ${new Set(row).size} distinct nodes`,
    topology.perDomainCap === 1
      ? `spread over ${domains.size} distinct ${unit}s: ${[...domains].join(', ')}`
      : `spread over ${domains.size} ${unit}s with at most ${topology.perDomainCap} per ${unit} (only ${topology.domainNames.length} eligible)`,
    requireTags.length > 0
      ? `every replica carries required tag(s) ${requireTags.join(', ')}`
      : 'no required tags',
    'no replica on a DEAD, DRAINING or LEFT node',
  ];

  const groups = new Map<string, string[]>();
  const avoid = (reason: string, id: string): void => {
    const list = groups.get(reason) ?? [];
    list.push(id);
    groups.set(reason, list);
  };
  const domainCount = new Map<string, number>();
  for (const id of row)
    domainCount.set(
      domainName(localOfId(id)),
      (domainCount.get(domainName(localOfId(id))) ?? 0) + 1,
    );
  for (const node of input.nodes) {
    if (row.includes(node.id)) continue;
    avoid(avoidReason(node, plan, localOfId(node.id), domainCount, unit), node.id);
  }
  const avoided = [...groups].map(([reason, nodes]) => ({
    reason:
      nodes.length > MAX_LISTED
        ? `${reason} (${nodes.length} nodes, first ${MAX_LISTED} listed)`
        : reason,
    nodes: nodes.slice(0, MAX_LISTED),
  }));

  return {
    resource: resource.name,
    partition,
    replicationFactor: rf,
    spreadBy,
    perDomainCap: topology.perDomainCap,
    current,
    replicas,
    removed,
    constraints,
    avoided,
    warnings: warnings.filter((w) => w.includes(`'${resource.name}'`)),
  };
}

function avoidReason(
  node: NormalNode,
  plan: ResourcePlan,
  local: number,
  domainCount: Map<string, number>,
  unit: string,
): string {
  if (!isEligibleState(node.state)) return `state ${node.state}: gets no replicas`;
  const missing = plan.resource.requireTags.filter((t) => !node.tags.has(t));
  if (missing.length > 0) return `lacks required tag(s) ${missing.join(', ')}`;
  const { topology, layout } = plan;
  const domain = topology.domainNames[topology.domainOf[local]];
  if ((domainCount.get(domain) ?? 0) >= topology.perDomainCap) {
    return `${unit} ${domain} already holds ${topology.perDomainCap === 1 ? 'a replica' : `${topology.perDomainCap} replicas`} of this partition`;
  }
  if (layout.counts[local] >= layout.hi[local]) {
    return 'at the top of its replica target (taking more would unbalance the cluster)';
  }
  return 'has room, but this partition kept the replicas it had (taking one would add a move)';
}
