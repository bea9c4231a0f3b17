import { Command, InvalidArgumentError } from 'commander';
import { balanceStats, explainPlacement, planPlacement } from '@tessera/placement';
import { EXIT_USAGE, isCliError } from '../api/cli-error';
import { formatExplanation, formatPlanSummary } from './placement-format';
import { readPlacementInput, toCliError, writeJson } from './placement-io';

interface PlanOptions {
  input: string;
  output: string;
  json?: boolean;
}

interface ExplainOptions {
  input: string;
  resource: string;
  partition: number;
  json?: boolean;
}

/** Where the command writes; tests pass buffers. */
export interface PlacementIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
  /** Milliseconds from a monotonic clock. */
  now(): number;
}

const processIo: PlacementIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  setExitCode: (code) => (process.exitCode = code),
  now: () => performance.now(),
};

function partitionNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('must be a non-negative integer');
  }
  return n;
}

/** Runs an action; any error becomes one line on stderr and the matching exit code. */
function guarded(io: PlacementIo, action: () => void): void {
  try {
    action();
  } catch (raw) {
    const error = toCliError(raw);
    if (isCliError(error)) {
      io.stderr(`tessera: ${error.message}\n`);
      io.setExitCode(error.exitCode);
      return;
    }
    throw error;
  }
}

/**
 * `placement plan` and `placement explain`: the planner on a file, no services needed.
 * Usage errors (unknown flag, missing option) exit 2.
 */
export function placementCommand(io: PlacementIo = processIo): Command {
  const placement = new Command('placement')
    .description('plan partition placement offline, and explain it')
    .exitOverride((error) => {
      // Help and version exit 0 as usual; anything else is a usage error.
      if (error.exitCode !== 0) process.exit(EXIT_USAGE);
    });

  placement
    .command('plan')
    .description('compute the target assignment for IN.json and write OUT.json')
    .requiredOption(
      '-i, --input <file>',
      'cluster, resources and optional current assignment (JSON)',
    )
    .requiredOption('-o, --output <file>', 'where to write { assignment, moves, elapsedMs }')
    .option('--json', 'print the summary as JSON')
    .action((options: PlanOptions) =>
      guarded(io, () => {
        const started = io.now();
        const input = readPlacementInput(options.input);
        const result = planPlacement(input);
        const elapsedMs = Math.round(io.now() - started);
        writeJson(options.output, {
          assignment: result.assignment,
          moves: result.moves,
          elapsedMs,
        });
        const summary = {
          output: options.output,
          partitions: Object.values(result.assignment).reduce((s, rows) => s + rows.length, 0),
          moves: result.moves,
          leaderMoves: result.leaderMoves,
          migrations: result.plan.migrations.length,
          waves: result.plan.waves.length,
          elapsedMs,
          balance: balanceStats(result.assignment, input.nodes),
          warnings: result.warnings,
        };
        io.stdout(`${options.json ? JSON.stringify(summary) : formatPlanSummary(summary)}\n`);
      }),
    );

  placement
    .command('explain')
    .description('say why each replica of one partition sits where it does')
    .requiredOption(
      '-i, --input <file>',
      'cluster, resources and optional current assignment (JSON)',
    )
    .requiredOption('-r, --resource <name>', 'resource name')
    .requiredOption('-p, --partition <n>', 'partition index', partitionNumber)
    .option('--json', 'print the explanation as JSON')
    .action((options: ExplainOptions) =>
      guarded(io, () => {
        const input = readPlacementInput(options.input);
        const explanation = explainPlacement(input, options.resource, options.partition);
        io.stdout(
          `${options.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation)}\n`,
        );
      }),
    );

  return placement;
}
