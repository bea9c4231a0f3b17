import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { type OperationState } from '../common/states';

export const OPERATION_KINDS = ['CREATE_RESOURCE', 'DELETE_RESOURCE', 'FAILOVER', 'REBALANCE', 'DRAIN', 'REPLACE', 'RECONCILE'] as const;
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
