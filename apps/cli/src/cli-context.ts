import { ApiClient } from './api/api-client';
import { apiConfigFromEnv } from './api/api-config';

/** Where the CLI writes; a test swaps in buffers. */
export interface Io {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  /** stdout is a terminal: `--watch` may redraw the screen. */
  stdoutIsTTY: boolean;
  /** stderr is a terminal: progress bars are drawn there. */
  stderrIsTTY: boolean;
  /** The stream cli-progress draws on (stderr, so stdout stays clean for pipes). */
  progressStream: NodeJS.WritableStream;
}

/** What every command gets: output, environment, the API client and Ctrl-C. */
export interface CliContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C (SIGINT). */
  interrupt: AbortSignal;
  /** The coordinator's client, built on first use so `placement` works without any env. */
  api(): ApiClient;
  now(): number;
}

export function createContext(io: Io, env: NodeJS.ProcessEnv, interrupt: AbortSignal): CliContext {
  let client: ApiClient | undefined;
  return {
    io,
    env,
    interrupt,
    api: () => (client ??= new ApiClient(apiConfigFromEnv(env), interrupt)),
    now: () => Date.now(),
  };
}

export function println(io: Io, text = ''): void {
  io.stdout(`${text}\n`);
}

export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
