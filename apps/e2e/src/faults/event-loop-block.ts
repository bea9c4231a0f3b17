import { spawn } from 'node:child_process';
import { type AppProcess, waitFor } from '@tessera/testing';

/**
 * Run by a helper node (`--experimental-websocket`, Node 20): attaches to the target's inspector
 * and has its main thread spin for the given time, as a wedged event loop would (a sync call
 * that never yields). The process stays alive and its sockets open; only its JS stops running.
 * Prints `sent` once the request is out and `done` when the target's loop is free again.
 */
const HELPER = `
const [url, ms] = process.argv.slice(-2);
const ws = new WebSocket(url);
ws.onopen = () => {
  const expression = '{ const until = Date.now() + ' + Number(ms) + '; while (Date.now() < until); }';
  ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }));
  console.log('sent');
};
ws.onmessage = (m) => {
  if (JSON.parse(m.data).id !== 1) return;
  console.log('done');
  ws.close();
  process.exit(0);
};
ws.onerror = (e) => { console.error('inspector: ' + (e.message || 'connection failed')); process.exit(1); };
`;

export interface BlockedLoop {
  /** When the request to block went out (the loop stops within a few ms of it). */
  blockedAt: number;
  /** Resolves once the loop runs again (the evaluation returned). */
  released: Promise<void>;
}

/**
 * RELIABILITY S4's fault: blocks a node process's event loop for `ms` while it stays alive with
 * TCP up. SIGUSR1 opens its inspector (kv-nodes start with `--inspect-port=0`, so on a free port
 * it prints), and a helper process evaluates a busy loop there. The helper is stopped by PID.
 */
export async function blockEventLoop(proc: AppProcess, ms: number): Promise<BlockedLoop> {
  const before = proc.output().length;
  proc.signal('SIGUSR1');
  const url = await waitFor(
    `${proc.name}'s inspector to listen`,
    () => /Debugger listening on (ws:\/\/\S+)/.exec(proc.output().slice(before))?.[1],
    { timeoutMs: 5_000, intervalMs: 20 },
  );
  const helper = spawn(
    process.execPath,
    ['--experimental-websocket', '--no-warnings', '-e', HELPER, url, String(ms)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  helper.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  helper.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => helper.once('exit', resolve));
  const stopHelper = (): void => {
    if (helper.exitCode === null && helper.pid !== undefined) process.kill(helper.pid, 'SIGKILL');
  };
  try {
    await waitFor(`the block request to reach ${proc.name}`, () => out.includes('sent'), {
      timeoutMs: 5_000,
      intervalMs: 5,
    });
  } catch (error) {
    stopHelper();
    throw new Error(`${String(error)}; helper said: ${out.trim()}`);
  }
  const blockedAt = Date.now();
  const released = Promise.race([
    exited.then((code) => {
      if (code !== 0) throw new Error(`the block helper exited ${String(code)}: ${out.trim()}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        stopHelper();
        reject(new Error(`${proc.name}'s loop was not released within ${ms + 30_000} ms`));
      }, ms + 30_000).unref(),
    ),
  ]);
  return { blockedAt, released };
}
