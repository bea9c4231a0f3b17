import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { type OperationState } from '../common/states';

/**
 * REREPLICATE is recovery's: wait the grace delay after a node's death, then have the coordinator
 * re-place its replicas (a REPLACE migration) and follow it to the end.
 */
export const OPERATION_KINDS = [
  'CREATE_RESOURCE',
  'DELETE_RESOURCE',
  'FAILOVER',
  'REBALANCE',
  'DRAIN',
  'REPLACE',
  'RECONCILE',
  'REREPLICATE',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** An operation as the admin API shows it (`GET /operations`). */
export interface OperationV1 {
  id: string;
  kind: OperationKind;
  state: OperationState;
  /** What the operation acts on: a resource or a node. */
  subject: string;
  progress: { done: number; total: number };
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  /** A PENDING re-replication: when it starts (the node's death + the grace delay). */
  dueAt?: string | null;
}

/** `recovery.operation.list`. */
export class ListOperationsRequestV1 {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export interface ListOperationsReplyV1 {
  operations: OperationV1[];
}

/** `coordinator.operation.get`. */
export class GetOperationRequestV1 {
  @IsUUID()
  id!: string;
}

export interface GetOperationReplyV1 {
  operation: OperationV1;
}

/** Longest grace delay an operator may set (a day): anything longer is a typo. */
export const MAX_GRACE_MS = 86_400_000;

/**
 * `recovery.operation.update`: change a pending re-replication's grace delay (counted from the
 * node's death; 0 starts it now). Operators use it mid-incident through `PATCH /operations/:id`.
 */
export class UpdateOperationRequestV1 {
  @IsUUID()
  id!: string;

  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_MS)
  graceMs!: number;
}

export interface UpdateOperationReplyV1 {
  operation: OperationV1;
}
