import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  type AdminState,
  type LivenessState,
  type SpreadBy,
  TesseraError,
  nodeStateOf,
} from '@tessera/contracts';
import {
  balanceStats,
  type BalanceStats,
  isPlacementError,
  planPlacement,
  type PlacementInput,
  type PlacementNode,
  type PlacementResult,
} from '@tessera/placement';
import { MapService } from '../map/map.service';
import { type PlannedMove } from './migration-phase';

interface NodeRow {
  id: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
  admin_state: AdminState;
  liveness: LivenessState | null;
}

interface ResourceRow {
  name: string;
  partitions: number;
  replication_factor: number;
  spread_by: SpreadBy;
  require_tags: string[];
}

export interface ResourcePlan {
  resource: string;
  result: PlacementResult;
  moves: PlannedMove[];
  before: BalanceStats;
  after: BalanceStats;
}

/** The planner's errors as API errors: UNSATISFIABLE names the constraint (400). */
export function planOrThrow(input: PlacementInput): PlacementResult {
  try {
    return planPlacement(input);
  } catch (error) {
    if (isPlacementError(error)) {
      throw new TesseraError(error.code === 'UNSATISFIABLE' ? 'UNSATISFIABLE' : 'INVALID', error.message, { cause: error });
    }
    throw error;
  }
}

/** Plans a resource's target from the cluster as it is now, starting from the target in force. */
@Injectable()
export class MigrationPlanner {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly maps: MapService,
  ) {}

  async nodes(overrides: Record<string, PlacementNode['state']> = {}): Promise<PlacementNode[]> {
    const rows: NodeRow[] = await this.db.query(`SELECT * FROM coordinator.node ORDER BY id`);
    return rows.map((n) => ({
      id: n.id,
      zone: n.zone,
      rack: n.rack,
      capacity: n.capacity,
      tags: n.tags,
      state: overrides[n.id] ?? nodeStateOf(n.admin_state, n.liveness),
    }));
  }

  async activeResources(): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query(
      `SELECT name FROM coordinator.resource WHERE state = 'ACTIVE' ORDER BY name`,
    );
    return rows.map((r) => r.name);
  }

  async plan(resource: string, nodes: PlacementNode[]): Promise<ResourcePlan> {
    const rows: ResourceRow[] = await this.db.query(`SELECT * FROM coordinator.resource WHERE name = $1`, [resource]);
    if (rows.length === 0) throw new TesseraError('NOT_FOUND', `no resource named ${resource}`);
    const row = rows[0];
    const current = await this.maps.targets(resource);
    const result = planOrThrow({
        nodes,
        resources: [
          {
            name: resource,
            partitions: row.partitions,
            replicationFactor: row.replication_factor,
            placement: { spreadBy: row.spread_by, requireTags: row.require_tags },
          },
        ],
        current: { [resource]: current },
      });
    const target = result.assignment[resource];
    const moves: PlannedMove[] = [];
    target.forEach((to, partition) => {
      const from = current[partition] ?? [];
      if (from.join() !== to.join()) moves.push({ resource, partition, from, to });
    });
    return {
      resource,
      result,
      moves,
      before: balanceStats({ [resource]: current }, nodes),
      after: balanceStats(result.assignment, nodes),
    };
  }
}
