/** Exit codes the CLI promises: 0 ok, 1 runtime error, 2 usage error, 130 interrupted. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** An error the CLI reports as one line on stderr and an exit code. */
export class CliError extends Error {
  override readonly name: string = 'CliError';

  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A bad flag or argument: exit 2, like commander's own usage errors. */
  static usage(message: string): CliError {
    return new CliError(message, EXIT_USAGE);
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}
