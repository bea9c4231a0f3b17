/**
 * A data node without data, for measuring the control plane alone: the node agent
 * (`PartitionNode`: register, heartbeat, take and fence role commands, reconcile, report) and
 * nothing else — no store, no replication traffic. Configured like a kv-node (TESSERA_NODE_ID,
 * TESSERA_NODE_ZONE, TESSERA_NODE_RACK, KV_DATA_DIR, TESSERA_CLUSTER, TESSERA_NATS_URL).
 *
 *   node tools/scripts/ts-run.js tools/bench/failover/light-node.ts
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NetworkManager } from '@tessera/messaging';
import { PartitionNode, ThreadHeartbeats } from '@tessera/node-agent';
import { Subjects } from '@tessera/contracts';
import { type AppProcess, WORKSPACE_ROOT } from '@tessera/testing';

/** Starts this file as a process with the given environment (an AppProcess, killable by PID). */
export function startLightNode(name: string, env: Record<string, string>): AppProcess {
  const child = spawn(
    process.execPath,
    [join(WORKSPACE_ROOT, 'tools/scripts/ts-run.js'), join(__dirname, 'light-node.ts')],
    {
      cwd: WORKSPACE_ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env, LIGHT_NODE_MAIN: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const signal = (sig: NodeJS.Signals) => {
    if (!done) process.kill(pid, sig);
  };
  return {
    name,
    pid,
    child,
    output: () => output,
    exited,
    signal,
    stop: async (graceMs = 10_000) => {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

async function run(): Promise<void> {
  const env = process.env;
  const nodeId = env['TESSERA_NODE_ID'] ?? 'light';
  const say = (level: string) => (obj: object, msg: string) =>
    process.stderr.write(`${JSON.stringify({ level, nodeId, msg, ...obj })}\n`);
  const quiet = () => undefined;
  const logger = { debug: quiet, info: quiet, warn: say('warn'), error: say('error') };
  const network = new NetworkManager(
    env['TESSERA_CLUSTER'] ?? 'default',
    { servers: (env['TESSERA_NATS_URL'] ?? 'nats://127.0.0.1:4222').split(',') },
    `light-${nodeId}`,
    logger,
  );
  await network.connect();
  const node = new PartitionNode({
    nodeId,
    zone: env['TESSERA_NODE_ZONE'] ?? 'default',
    rack: env['TESSERA_NODE_RACK'] ?? 'default',
    capacity: 1,
    tags: [],
    dataDir: env['KV_DATA_DIR'] ?? join(WORKSPACE_ROOT, 'tmp', 'light-node', nodeId),
    network,
    logger,
    // As the kv-node sends them: from their own thread.
    heartbeats: new ThreadHeartbeats({
      connection: network.threadConnection('heartbeats'),
      subject: network.subject(Subjects.health.heartbeat(nodeId)),
      onError: (error) => logger.error({ err: String(error) }, 'heartbeat thread failed'),
    }),
  });
  // No data: every replica is at offset 0, so every follower is in sync.
  node.providePositions(() => ({ logEndOffset: 0, highWatermark: 0 }));
  const stop = () => {
    void node
      .stop()
      .then(() => network.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await node.start();
}

if (process.env['LIGHT_NODE_MAIN'] === '1') {
  run().catch((error: unknown) => {
    process.stderr.write(
      `light-node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
