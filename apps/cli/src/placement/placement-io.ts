import { readFileSync, writeFileSync } from 'node:fs';
import { PlacementError, type PlacementInput } from '@tessera/placement';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from '../api/cli-error';

/** Reads and parses IN.json; shape problems are reported by the planner's own validation. */
export function readPlacementInput(file: string): PlacementInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --input ${file}: ${(error as Error).message}`, EXIT_USAGE, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `--input ${file} is not valid JSON: ${(error as Error).message}`,
      EXIT_USAGE,
      {
        cause: error,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(
      `--input ${file}: expected an object with "nodes" and "resources"`,
      EXIT_USAGE,
    );
  }
  return value as PlacementInput;
}

export function writeJson(file: string, value: unknown): void {
  try {
    writeFileSync(file, `${JSON.stringify(value)}\n`);
  } catch (error) {
    throw new CliError(`cannot write --output ${file}: ${(error as Error).message}`, EXIT_FAILURE, {
      cause: error,
    });
  }
}

/** Maps planner errors to the CLI's: unsatisfiable input exits 1, malformed input is a usage error. */
export function toCliError(error: unknown): unknown {
  if (!(error instanceof PlacementError)) return error;
  switch (error.code) {
    case 'UNSATISFIABLE':
      return new CliError(`unsatisfiable (${error.constraint}): ${error.message}`, EXIT_FAILURE, {
        cause: error,
      });
    case 'INVALID_INPUT':
      return new CliError(`invalid input (${error.constraint}): ${error.message}`, EXIT_USAGE, {
        cause: error,
      });
  }
}
