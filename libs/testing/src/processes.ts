import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const WORKSPACE_ROOT = join(__dirname, '../../..');

export interface AppProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to this process (by PID, never by name). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `TESSERA_CHILD_NODE_ARGS` (space-separated) go to node before main.js in every started app,
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a fleet (written on a clean exit);
 * NODE_OPTIONS cannot carry --cpu-prof.
 */
function childNodeArgs(): string[] {
  return (process.env['TESSERA_CHILD_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

/**
 * Starts `node dist/apps/<app>/main.js` with the given environment, as a real process;
 * `nodeArgs` go to node before main.js (after TESSERA_CHILD_NODE_ARGS).
 */
export function startApp(
  app: string,
  env: Record<string, string>,
  name = app,
  nodeArgs: string[] = [],
): AppProcess {
  const main = join(WORKSPACE_ROOT, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const child = spawn(process.execPath, [...childNodeArgs(), ...nodeArgs, main], {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`could not start ${app}`);
  const pid = child.pid;
  let done = false;
  void exited.then(() => (done = true));
  return {
    name,
    pid,
    child,
    output: () => output,
    exited,
    signal: (sig) => {
      if (!done) process.kill(pid, sig);
    },
    stop: async (graceMs = 10_000) => {
      if (!done) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (!done) process.kill(pid, 'SIGKILL');
        }, graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}

/** Stops every process in the list (in parallel), whatever state each is in. */
export async function stopAll(processes: AppProcess[], graceMs = 10_000): Promise<void> {
  await Promise.all(processes.map((p) => p.stop(graceMs).catch(() => undefined)));
}

// Ports for child processes come from below Linux's ephemeral range (32768–60999): a port the OS
// hands out for listen(0) is also handed to outgoing connections, so between our probe and the
// child's bind another process's NATS or Postgres socket could take it (EADDRINUSE in CI).
const PORT_FLOOR = 20_000;
const PORT_SPAN = 12_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that is free now and that no outgoing connection will take: picked at
 * random below the ephemeral range (parallel jest workers rarely meet), never twice per process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * PORT_SPAN);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${PORT_FLOOR}..${PORT_FLOOR + PORT_SPAN - 1}`);
}
