import { buildTopology, type ResourceTopology } from './domains';
import { planLeaders, type LeaderLayout } from './leaders';
import { DEFAULT_THROTTLE, groupIntoWaves, migrationFor } from './migration-plan';
import { planReplicas, type ReplicaLayout } from './replicas';
import type {
  PartitionMigration,
  PlacementInput,
  PlacementResult,
  PlanOptions,
  ThrottleLimits,
} from './types';
import { normalizeInput, type NormalInput, type NormalResource } from './validate';

/** Everything the planner decided for one resource; `explainPlacement` reads it too. */
export interface ResourcePlan {
  resource: NormalResource;
  topology: ResourceTopology;
  layout: ReplicaLayout;
  leaders: LeaderLayout;
  rows: string[][];
}

export interface FullPlan {
  input: NormalInput;
  resources: ResourcePlan[];
  result: PlacementResult;
}

/**
 * Computes the target assignment and the migration plan. Pure and deterministic: the same input
 * gives the same output, whatever order nodes are listed in.
 */
export function planPlacement(input: PlacementInput, options: PlanOptions = {}): PlacementResult {
  return planInDetail(input, options).result;
}

export function planInDetail(input: PlacementInput, options: PlanOptions = {}): FullPlan {
  const normal = normalizeInput(input);
  const throttle: ThrottleLimits = { ...DEFAULT_THROTTLE, ...options.throttle };
  const warnings: string[] = [];
  const assignment: Record<string, string[][]> = {};
  const migrations: PartitionMigration[] = [];
  const plans: ResourcePlan[] = [];
  let moves = 0;
  let leaderMoves = 0;
  let createdPartitions = 0;

  for (const name of Object.keys(normal.current)) {
    if (!normal.resources.some((r) => r.name === name)) {
      warnings.push(`current lists resource '${name}' that is not in resources; ignored`);
    }
  }

  for (const resource of normal.resources) {
    const { name, partitions, replicationFactor: rf } = resource;
    const topology = buildTopology(normal.nodes, resource);
    warnings.push(...topology.warnings);
    const current = normal.current[name];
    if (current !== undefined && current.length > partitions) {
      warnings.push(
        `resource '${name}': current has ${current.length} partitions, only the first ${partitions} are kept`,
      );
    }

    const layout = planReplicas(topology, partitions, rf, current, normal.nodeIndex);
    if (layout.unbalanced > 0) {
      warnings.push(
        `resource '${name}': ${layout.unbalanced} replica(s) are outside their node's fair share because the placement rules left no other room`,
      );
    }
    const currentLeader = new Int32Array(partitions).fill(-1);
    if (current !== undefined) {
      for (let p = 0; p < Math.min(partitions, current.length); p++) {
        const id = current[p][0];
        const global = id === undefined ? undefined : normal.nodeIndex.get(id);
        if (global !== undefined) currentLeader[p] = topology.localOf[global];
      }
    }
    const leaders = planLeaders(
      layout.slots,
      rf,
      partitions,
      layout.counts,
      layout.leaderKept,
      currentLeader,
    );

    const ids = topology.nodes.map((node) => node.id);
    const rows: string[][] = new Array<string[]>(partitions);
    for (let p = 0; p < partitions; p++) {
      const base = p * rf;
      const lead = leaders.leaderOffset[p];
      const before = current?.[p];
      if (before !== undefined && unchanged(before, layout.slots, base, rf, lead, ids)) {
        rows[p] = before.slice(); // keeps the follower order in force too
        continue;
      }
      const row = [ids[layout.slots[base + lead]]];
      for (let k = 0; k < rf; k++) if (k !== lead) row.push(ids[layout.slots[base + k]]);
      rows[p] = row;

      if (before === undefined || before.length === 0) {
        createdPartitions++;
        moves += rf;
        continue;
      }
      const migration = migrationFor(name, p, before, row);
      if (migration === undefined) continue;
      moves += migration.added.length;
      if (migration.leaderChanged) leaderMoves++;
      migrations.push(migration);
    }
    assignment[name] = rows;

    plans.push({
      resource,
      topology,
      layout,
      leaders,
      rows,
    });
  }

  const waves = groupIntoWaves(migrations, throttle);
  const result: PlacementResult = {
    assignment,
    moves,
    leaderMoves,
    warnings,
    plan: { migrations, waves, throttle, createdPartitions, replicaMoves: moves, leaderMoves },
  };
  return { input: normal, resources: plans, result };
}

/** Whether partition slots [base, base+rf) hold exactly `before`'s nodes with the same leader. */
function unchanged(
  before: readonly string[],
  slots: Int32Array,
  base: number,
  rf: number,
  lead: number,
  ids: readonly string[],
): boolean {
  if (before.length !== rf || before[0] !== ids[slots[base + lead]]) return false;
  for (let k = 0; k < rf; k++) if (!before.includes(ids[slots[base + k]])) return false;
  return true;
}
