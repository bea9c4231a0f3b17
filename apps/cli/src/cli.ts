import { Command, CommanderError } from 'commander';
import { oneLine } from './api/api-client';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './api/cli-error';
import { type CliContext, type Io, createContext } from './cli-context';
import { drainCommand, undrainCommand } from './commands/drain.command';
import { mapCommand } from './commands/map.command';
import { nodesCommand } from './commands/nodes.command';
import { operationsCommand } from './commands/operations.command';
import { rebalanceCommand } from './commands/rebalance.command';
import { resourcesCommand } from './commands/resources.command';
import { statusCommand } from './commands/status.command';
import { placementCommand } from './placement/placement.command';

/** Commander's codes for a mistyped command line: exit 2, as the CLI promises. */
const USAGE_CODES = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
  'commander.excessArguments',
  'commander.invalidArgument',
  'commander.help',
]);
const QUIET_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

export function buildProgram(ctx: CliContext): Command {
  return new Command('tessera')
    .description(
      "Operate a Tessera cluster through the coordinator's admin API.\n" +
        'Environment: TESSERA_API_URL (default http://127.0.0.1:3000), TESSERA_ADMIN_TOKEN.',
    )
    .addCommand(statusCommand(ctx))
    .addCommand(nodesCommand(ctx))
    .addCommand(mapCommand(ctx))
    .addCommand(resourcesCommand(ctx))
    .addCommand(rebalanceCommand(ctx))
    .addCommand(drainCommand(ctx))
    .addCommand(undrainCommand(ctx))
    .addCommand(operationsCommand(ctx))
    .addCommand(placementCommand())
    .addHelpText('after', EXAMPLES);
}

const EXAMPLES = `
Examples:
  tessera status
  tessera resources create orders --partitions 64 --replication-factor 3 --spread-by zone
  tessera rebalance orders --dry-run
  tessera drain kv-3 --wait
  tessera operations --watch
  tessera map --resource orders --json | jq '.resources[0].partitions[0]'

Exit codes: 0 ok, 1 error (one line on stderr), 2 usage error, 130 interrupted.`;

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent)
    names.unshift(current.name());
  return names.join(' ');
}

/**
 * `addCommand` does not pass settings down, so every command (the placement ones included)
 * gets them here: throw instead of exiting, write through `io`, and let `runCli` print usage
 * errors as one line that names the command's help.
 */
function applyCliBehaviour(command: Command, io: Io, onError: (command: Command) => void): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.stdout(text),
    writeErr: (text) => io.stderr(text),
    outputError: () => onError(command),
  });
  for (const sub of command.commands) applyCliBehaviour(sub, io, onError);
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function runCli(
  argv: string[],
  io: Io,
  env: NodeJS.ProcessEnv,
  interrupt: AbortSignal,
): Promise<number> {
  let failing: Command | undefined;
  try {
    const program = buildProgram(createContext(io, env, interrupt));
    applyCliBehaviour(program, io, (command) => (failing = command));
    await program.parseAsync(argv, { from: 'node' });
    return EXIT_OK;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      if (QUIET_CODES.has(error.code)) return EXIT_OK;
      const usage = USAGE_CODES.has(error.code);
      // 'commander.help' already printed the help text; anything else gets its one line.
      if (error.code !== 'commander.help') {
        const hint = usage && failing ? ` (see '${commandPath(failing)} --help')` : '';
        io.stderr(`tessera: ${oneLine(error.message.replace(/^error: /, ''))}${hint}\n`);
      }
      return usage ? EXIT_USAGE : error.exitCode || EXIT_FAILURE;
    }
    if (error instanceof CliError) {
      io.stderr(`tessera: ${oneLine(error.message)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`tessera: ${oneLine(message)}\n`);
    return EXIT_FAILURE;
  }
}
