import { type Command, InvalidArgumentError } from 'commander';

export interface JsonOption {
  json?: boolean;
}

/** Every command takes `--json`: machine-readable output on stdout. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print machine-readable JSON on stdout');
}

/** Commander argument parser for counts: "16" → 16; "0", "-1", "1.5", "abc" → usage error. */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return Number(value);
}

/** Commander argument parser for intervals in seconds, e.g. "0.5" or "2". */
export function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError('must be a positive number of seconds.');
  }
  return seconds;
}

/** `--grace 0`: whole milliseconds, 0 or more. */
export function milliseconds(value: string): number {
  if (!/^[0-9]{1,9}$/.test(value.trim())) {
    throw new InvalidArgumentError('must be a whole number of milliseconds (0 or more).');
  }
  return Number(value.trim());
}

/** Repeatable option: `--require-tag a --require-tag b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
