import type { OperationV1 } from '@tessera/contracts';
import { isActiveOperation } from '../cluster/cluster-health';
import { progressText } from './progress';
import { renderTable } from './table';
import { formatAge, formatDuration, formatElapsed } from './time';

/** Running operations first, then the most recent. */
export function sortOperations(operations: OperationV1[]): OperationV1[] {
  return [...operations].sort(
    (a, b) =>
      Number(isActiveOperation(b)) - Number(isActiveOperation(a)) ||
      b.startedAt.localeCompare(a.startedAt),
  );
}

export function operationsView(
  operations: OperationV1[],
  now: number,
  options: { bars: boolean },
): string {
  if (operations.length === 0) return 'No operations.';
  return renderTable(
    ['id', 'kind', 'subject', 'state', 'progress', 'started', 'duration', 'error'],
    sortOperations(operations).map((op) => [
      op.id,
      op.kind,
      op.subject,
      op.state,
      progressCell(op, now, options.bars),
      formatAge(op.startedAt, now),
      formatElapsed(op.startedAt, op.finishedAt, now),
      op.error ?? '',
    ]),
  );
}

/** A re-replication waiting out its grace delay says when it starts instead of 0/0. */
function progressCell(op: OperationV1, now: number, bars: boolean): string {
  if (op.state === 'PENDING' && op.dueAt) {
    const due = Date.parse(op.dueAt);
    if (!Number.isNaN(due)) return due > now ? `starts in ${formatDuration(due - now)}` : 'starting';
  }
  return bars && isActiveOperation(op) ? progressText(op.progress) : `${op.progress.done}/${op.progress.total}`;
}

/** "REBALANCE orders RUNNING [████░░░░] 40% 4/10, started 12s ago" */
export function operationLine(op: OperationV1, now: number): string {
  return `${op.kind} ${op.subject} ${op.state} ${progressText(op.progress)}, started ${formatAge(op.startedAt, now)} (${op.id})`;
}

/** The closing line of `drain --wait` and friends. */
export function operationOutcome(op: OperationV1, now: number): string {
  const took = formatElapsed(op.startedAt, op.finishedAt, now);
  const what = `${op.kind} ${op.subject} ${op.state.toLowerCase()}`;
  return `${what} after ${took}: ${op.progress.done}/${op.progress.total} done${op.error ? `: ${op.error}` : ''}`;
}
