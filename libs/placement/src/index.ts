export { planPlacement } from './lib/planner';
export { explainPlacement } from './lib/explain';
export type {
  AvoidedNodes,
  PlacementExplanation,
  RemovedReplica,
  ReplicaExplanation,
} from './lib/explain';
export { balanceStats } from './lib/balance-stats';
export type { BalanceStats, LoadStats } from './lib/balance-stats';
export {
  PlacementError,
  isPlacementError,
  isUnsatisfiable,
  type PlacementErrorCode,
} from './lib/placement-error';
export { DEFAULT_THROTTLE } from './lib/migration-plan';
export type {
  MigrationPlan,
  MigrationStep,
  MigrationStepKind,
  NodeState,
  PartitionMigration,
  PlacementInput,
  PlacementNode,
  PlacementResource,
  PlacementResult,
  PlacementRules,
  PlanOptions,
  SpreadBy,
  ThrottleLimits,
} from './lib/types';
