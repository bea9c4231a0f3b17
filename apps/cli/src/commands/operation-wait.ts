import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationV1 } from '@tessera/contracts';
import { ApiError } from '../api/api-client';
import { CliError, EXIT_INTERRUPTED } from '../api/cli-error';
import { type CliContext } from '../cli-context';
import { isFinishedOperation } from '../cluster/cluster-health';
import { operationProgress } from '../output/progress';

export const DEFAULT_POLL_SECONDS = 1;
/** A coordinator restart should not abort a long wait: keep polling through this much outage. */
export const OUTAGE_GRACE_MS = 30_000;

/** Sleeps, or resolves false at once when Ctrl-C was pressed. */
export async function pause(ctx: CliContext, ms: number): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: ctx.interrupt });
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls `fetch` and retries while the failure is transient (unreachable, 429, 502–504), up to
 * the grace period; any other error (401, 404, 500…) is final.
 */
export async function pollTolerantly<T>(
  ctx: CliContext,
  intervalMs: number,
  fetch: () => Promise<T>,
): Promise<T> {
  let firstFailure: number | undefined;
  for (;;) {
    try {
      return await fetch();
    } catch (error: unknown) {
      if (!(error instanceof ApiError && error.transient)) throw error;
      firstFailure ??= ctx.now();
      if (ctx.now() - firstFailure >= OUTAGE_GRACE_MS) throw error;
      if (!(await pause(ctx, intervalMs))) throw new CliError('interrupted', EXIT_INTERRUPTED);
    }
  }
}

/**
 * Polls `GET /operations/:id` until the operation finishes, drawing a progress bar on a
 * terminal (none with `--json`). Ctrl-C stops waiting, never the operation.
 */
export async function waitForOperation(
  ctx: CliContext,
  id: string,
  options: { label: string; json: boolean; intervalMs: number },
): Promise<OperationV1> {
  const progress = options.json ? undefined : operationProgress(ctx.io, options.label);
  const interrupted = () =>
    new CliError(
      `stopped waiting; operation ${id} continues in the background (tessera operations ${id})`,
      EXIT_INTERRUPTED,
    );
  try {
    for (;;) {
      let operation: OperationV1;
      try {
        operation = await pollTolerantly(ctx, options.intervalMs, () => ctx.api().operation(id));
      } catch (error: unknown) {
        if (error instanceof CliError && error.exitCode === EXIT_INTERRUPTED) throw interrupted();
        throw error;
      }
      progress?.update(operation);
      if (isFinishedOperation(operation)) return operation;
      if (!(await pause(ctx, options.intervalMs))) throw interrupted();
    }
  } finally {
    progress?.stop();
  }
}

/** After a wait: anything but SUCCEEDED is a failure worth a non-zero exit. */
export function assertSucceeded(operation: OperationV1): void {
  if (operation.state === 'SUCCEEDED') return;
  const reason = operation.error ? `: ${operation.error}` : '';
  throw new CliError(
    `operation ${operation.id} (${operation.kind} ${operation.subject}) ${operation.state}${reason}`,
  );
}
