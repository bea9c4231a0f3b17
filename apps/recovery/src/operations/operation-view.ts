import {
  OPERATION_KINDS,
  OPERATION_STATES,
  type OperationKind,
  type OperationState,
  type OperationV1,
} from '@tessera/contracts';

/** Why recovery asks consensus for an election (the `reason` of ElectLeadersRequestV1). */
export type ElectReason = 'NODE_DEAD' | 'NODE_RETURNED' | 'RECONCILE';
const ELECT_REASONS: readonly string[] = [
  'NODE_DEAD',
  'NODE_RETURNED',
  'RECONCILE',
] satisfies ElectReason[];

/** The single step of a FAILOVER operation, as kept in its `steps` JSON. */
export interface ElectStep {
  name: 'elect';
  state: OperationState;
  reason: ElectReason;
  unavailable?: string[];
  elected?: number;
  offline?: number;
  changed?: number;
  error?: string;
}

/** First step of a REREPLICATE: the wait after the node's death. */
export interface GraceStep {
  name: 'grace';
  /** ISO time health declared the node DEAD. */
  deathAt: string;
  graceMs: number;
}

/** Second step of a REREPLICATE: the coordinator's REPLACE migration, followed to its end. */
export interface ReplaceStep {
  name: 'replace';
  state: OperationState;
  /** The coordinator's operation; null when the node held nothing to re-place. */
  coordinatorOperationId: string | null;
  error?: string;
}

/** A recovery.operation row as node-postgres returns it. */
export interface OperationRecord {
  id: string;
  kind: string;
  state: string;
  node_id: string;
  done: number;
  total: number;
  steps: unknown;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  due_at: Date | null;
}

export interface ElectOutcome {
  elected: number;
  offline: number;
  changed: number;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;

/** Reads consensus's reply defensively: a missing or odd count is 0, never NaN in a row. */
export function electOutcome(reply: unknown): ElectOutcome {
  const r = typeof reply === 'object' && reply !== null ? (reply as Record<string, unknown>) : {};
  return {
    elected: count(r['elected']),
    offline: count(r['offline']),
    changed: count(r['changed']),
  };
}

/** Progress of a failover: partitions that got a leader, out of those that needed one. */
export function progressOf(outcome: ElectOutcome): { done: number; total: number } {
  return { done: outcome.elected, total: outcome.elected + outcome.offline };
}

/** The reason stored with an operation's elect step (RECONCILE when it cannot be read). */
export function reasonOf(steps: unknown): ElectReason {
  if (Array.isArray(steps)) {
    const step: unknown = steps.find(
      (s: unknown) =>
        typeof s === 'object' && s !== null && (s as { name?: unknown }).name === 'elect',
    );
    const reason = (step as { reason?: unknown } | undefined)?.reason;
    if (typeof reason === 'string' && ELECT_REASONS.includes(reason)) return reason as ElectReason;
  }
  return 'RECONCILE';
}

/** After `failures` failed elections in a row, wait this long before reconciling again. */
export function reconcileDelayMs(failures: number, baseMs = 10_000, maxMs = 300_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

export function toOperationV1(r: OperationRecord): OperationV1 {
  return {
    id: r.id,
    kind: (OPERATION_KINDS as readonly string[]).includes(r.kind)
      ? (r.kind as OperationKind)
      : 'FAILOVER',
    state: (OPERATION_STATES as readonly string[]).includes(r.state)
      ? (r.state as OperationState)
      : 'FAILED',
    subject: r.node_id,
    progress: { done: r.done, total: r.total },
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    error: r.error,
    ...(r.kind === 'REREPLICATE' ? { dueAt: r.due_at ? r.due_at.toISOString() : null } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * A REREPLICATE's steps as stored; a row written by hand or by an older version is read as far as
 * it makes sense (a missing grace step is rebuilt from the row, an unreadable replace step is absent).
 */
export function rereplicationSteps(row: OperationRecord): [GraceStep, ReplaceStep?] {
  const steps = Array.isArray(row.steps) ? (row.steps as unknown[]) : [];
  const g = steps.find((s) => isObject(s) && s['name'] === 'grace');
  const grace: GraceStep =
    isObject(g) && typeof g['deathAt'] === 'string' && typeof g['graceMs'] === 'number'
      ? { name: 'grace', deathAt: g['deathAt'], graceMs: g['graceMs'] }
      : { name: 'grace', deathAt: row.started_at.toISOString(), graceMs: 0 };
  const r = steps.find((s) => isObject(s) && s['name'] === 'replace');
  if (!isObject(r)) return [grace];
  const id = r['coordinatorOperationId'];
  const state = r['state'];
  return [
    grace,
    {
      name: 'replace',
      state: (OPERATION_STATES as readonly unknown[]).includes(state)
        ? (state as OperationState)
        : 'RUNNING',
      coordinatorOperationId: typeof id === 'string' ? id : null,
      ...(typeof r['error'] === 'string' ? { error: r['error'] } : {}),
    },
  ];
}
