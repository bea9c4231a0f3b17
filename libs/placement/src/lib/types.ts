/** Lifecycle state of a node as the planner sees it. SUSPECT nodes still receive replicas. */
export type NodeState = 'ALIVE' | 'SUSPECT' | 'DEAD' | 'DRAINING' | 'LEFT';

export interface PlacementNode {
  id: string;
  zone?: string;
  rack?: string;
  /** Relative weight; replicas are shared in proportion to it. Default 1. */
  capacity?: number;
  tags?: string[];
  /** Default ALIVE. DEAD, DRAINING and LEFT nodes get nothing. */
  state?: NodeState;
}

export type SpreadBy = 'zone' | 'rack' | 'none';

export interface PlacementRules {
  /** Fault domain replicas of one partition are spread over. Default 'zone'. */
  spreadBy?: SpreadBy;
  /** Every replica must sit on a node carrying all of these tags. */
  requireTags?: string[];
}

export interface PlacementResource {
  name: string;
  partitions: number;
  replicationFactor: number;
  placement?: PlacementRules;
}

export interface PlacementInput {
  nodes: PlacementNode[];
  resources: PlacementResource[];
  /** Assignment in force: per resource, per partition, replica node ids, preferred leader first. */
  current?: Record<string, string[][]>;
}

/** Limits a throttle applies when executing the migration plan; used to group moves into waves. */
export interface ThrottleLimits {
  maxMovesPerNode: number;
  maxMovesPerCluster: number;
}

export interface PlanOptions {
  throttle?: Partial<ThrottleLimits>;
}

export type MigrationStepKind =
  'ADD_REPLICA' | 'WAIT_IN_SYNC' | 'MOVE_LEADERSHIP' | 'REMOVE_REPLICA';

/** One make-before-break step; the steps of a partition run in array order. */
export interface MigrationStep {
  kind: MigrationStepKind;
  /** The node added, awaited, given leadership, or removed. */
  node: string;
  /** For MOVE_LEADERSHIP: the previous preferred leader. */
  from?: string;
}

/** Everything that changes for one partition, as ordered steps. */
export interface PartitionMigration {
  resource: string;
  partition: number;
  from: string[];
  to: string[];
  added: string[];
  removed: string[];
  leaderChanged: boolean;
  steps: MigrationStep[];
  /** Nodes a throttle must count this migration against (added, removed, old and new leader). */
  nodes: string[];
  /** Index into MigrationPlan.waves. */
  wave: number;
}

export interface MigrationPlan {
  /** Partitions that existed in `current` and change, in execution order. */
  migrations: PartitionMigration[];
  /**
   * Migrations grouped so that no wave exceeds the throttle limits: a wave holds at most
   * maxMovesPerCluster migrations and touches each node at most maxMovesPerNode times.
   * Values are indices into `migrations`. Waves may run one after the other, or a throttle may
   * start any migration whose nodes have spare slots.
   */
  waves: number[][];
  throttle: ThrottleLimits;
  /** Partitions with no replicas in `current`: placed directly, nothing to migrate. */
  createdPartitions: number;
  replicaMoves: number;
  leaderMoves: number;
}

export interface PlacementResult {
  /** Per resource, per partition, replica node ids, preferred leader first. */
  assignment: Record<string, string[][]>;
  /** Replicas placed on a node that did not hold them in `current`. */
  moves: number;
  /** Existing partitions whose preferred leader changes. */
  leaderMoves: number;
  warnings: string[];
  plan: MigrationPlan;
}
