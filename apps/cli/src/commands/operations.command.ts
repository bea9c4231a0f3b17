import { Command } from 'commander';
import type { OperationV1 } from '@tessera/contracts';
import { CliError, EXIT_INTERRUPTED, EXIT_USAGE } from '../api/cli-error';
import { type CliContext, printJson, println } from '../cli-context';
import { operationOutcome, operationsView } from '../output/operation.view';
import { type JsonOption, milliseconds, positiveSeconds, withJson } from './command-options';
import {
  DEFAULT_POLL_SECONDS,
  assertSucceeded,
  pause,
  pollTolerantly,
  waitForOperation,
} from './operation-wait';

interface OperationsOptions extends JsonOption {
  watch?: boolean;
  interval: number;
  grace?: number;
}

// Redraw in place (home, rewrite each line, clear the rest) rather than clearing the screen,
// which flickers.
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

function isInterrupted(error: unknown): boolean {
  return error instanceof CliError && error.exitCode === EXIT_INTERRUPTED;
}

/** `--watch`: refresh until Ctrl-C; a terminal gets a live screen, a pipe gets each change once. */
async function watchOperations(ctx: CliContext, options: OperationsOptions): Promise<void> {
  const { io } = ctx;
  const intervalMs = options.interval * 1000;
  const live = io.stdoutIsTTY && !options.json;
  let previous = '';
  if (live) io.stdout(HIDE_CURSOR);
  try {
    for (;;) {
      let operations: OperationV1[];
      try {
        operations = await pollTolerantly(ctx, intervalMs, () => ctx.api().operations());
      } catch (error: unknown) {
        if (isInterrupted(error)) return;
        throw error;
      }
      const now = ctx.now();
      const snapshot = JSON.stringify(operations);
      if (live) {
        const header = `Every ${options.interval}s: tessera operations  ${new Date(now).toISOString()}  (Ctrl-C to stop)`;
        const screen = `${header}\n\n${operationsView(operations, now, { bars: true })}`;
        io.stdout(
          `${HOME}${screen.split('\n').join(`${CLEAR_LINE_END}\n`)}${CLEAR_LINE_END}\n${CLEAR_BELOW}`,
        );
      } else if (snapshot !== previous) {
        // One JSON document per line (NDJSON) or one table per change, for pipes and logs.
        io.stdout(
          options.json
            ? `${snapshot}\n`
            : `${operationsView(operations, now, { bars: false })}\n\n`,
        );
      }
      previous = snapshot;
      if (!(await pause(ctx, intervalMs))) return;
    }
  } finally {
    if (live) io.stdout(SHOW_CURSOR);
  }
}

async function showOperation(
  ctx: CliContext,
  id: string,
  options: OperationsOptions,
): Promise<void> {
  const json = options.json === true;
  if (!options.watch) {
    const operation = await ctx.api().operation(id);
    if (json) printJson(ctx.io, operation);
    else println(ctx.io, operationsView([operation], ctx.now(), { bars: true }));
    return;
  }
  const operation = await waitForOperation(ctx, id, {
    label: `operation ${id}`,
    json,
    intervalMs: options.interval * 1000,
  });
  if (json) printJson(ctx.io, operation);
  else println(ctx.io, operationOutcome(operation, ctx.now()));
  assertSucceeded(operation);
}

export function operationsCommand(ctx: CliContext): Command {
  return withJson(new Command('operations'))
    .description(
      'long-running operations (create, delete, failover, rebalance, drain) and their progress',
    )
    .argument('[id]', 'show only this operation')
    .option('--watch', 'refresh until Ctrl-C, with progress bars (with an id: until it finishes)')
    .option(
      '--interval <seconds>',
      'refresh interval for --watch',
      positiveSeconds,
      DEFAULT_POLL_SECONDS,
    )
    .option(
      '--grace <ms>',
      'with an id: set a pending re-replication’s grace delay, from the node’s death (0 = now)',
      milliseconds,
    )
    .action(async (id: string | undefined, options: OperationsOptions) => {
      if (options.grace !== undefined) {
        if (id === undefined) throw new CliError('--grace needs an operation id', EXIT_USAGE);
        const operation = await ctx.api().setGrace(id, options.grace);
        if (options.json) printJson(ctx.io, operation);
        else println(ctx.io, operationsView([operation], ctx.now(), { bars: false }));
        return;
      }
      if (id !== undefined) return showOperation(ctx, id, options);
      if (options.watch) return watchOperations(ctx, options);
      const operations = await ctx.api().operations();
      if (options.json) printJson(ctx.io, operations);
      else println(ctx.io, operationsView(operations, ctx.now(), { bars: false }));
    });
}
