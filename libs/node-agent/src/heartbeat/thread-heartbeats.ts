import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { type ThreadConnection } from '@tessera/messaging';
import {
  type HeartbeatChannel,
  type HeartbeatOutcome,
  type HeartbeatPlan,
} from './heartbeat-channel';

/**
 * How long the agent's loop may go without calling `alive()` before the thread stops beating.
 * Stalls shorter than this (a busy or CPU-starved node, one reopening thousands of partitions
 * after a restart) no longer read as death; a loop wedged for longer goes silent and is declared
 * DEAD about a second later (RELIABILITY S4's 7 s block still fails over). A killed or stopped process
 * loses this thread too, so detection of those is unchanged.
 */
export const DEFAULT_STALL_LIMIT_MS = 5_000;

/**
 * The heartbeat connection pings the NATS server this often and gives up on it after 3 missed
 * pongs (the service connections: 5 s). A node whose link delivers what it sends but not what
 * it should receive (RELIABILITY S9) still got its heartbeats through, so it stayed ALIVE while
 * it heard neither puts nor acknowledgements: its partitions had no leader that could serve.
 * Now the thread notices within ~3 s that the server does not answer, and falls silent until a
 * new connection works: the node is declared DEAD and its partitions fail over.
 */
export const HEARTBEAT_PING_INTERVAL_MS = 1_000;

export interface ThreadHeartbeatsOptions {
  connection: ThreadConnection;
  /** The full heartbeat subject (NetworkManager.subject of Subjects.health.heartbeat). */
  subject: string;
  stallLimitMs?: number;
  /** The agent's monotonic clock (ms), to translate send times into. Default performance.now. */
  clock?: () => number;
  /** The worker could not run (it then stops beating, and the node is declared DEAD). */
  onError?: (error: unknown) => void;
}

interface WorkerInput {
  natsPath: string;
  connection: ThreadConnection;
  subject: string;
  stallLimitMs: number;
  pingIntervalMs: number;
}

type FromWorker =
  | { type: 'replied'; sentAt: number; body: unknown }
  | { type: 'failed'; code: string }
  | { type: 'error'; message: string };

// Webpack leaves Node's own require behind this name; without webpack (jest, ts-run) it is absent.
declare const __non_webpack_require__: NodeJS.Require | undefined;
const nodeRequire: NodeJS.Require =
  typeof __non_webpack_require__ === 'function' ? __non_webpack_require__ : require;

/**
 * The worker's code. It runs from source text (`eval`), so it may use nothing from this module:
 * only Node's require (named as webpack leaves it, defined by the preamble otherwise), the nats
 * client found by path, and the messages below. Send times are absolute (timeOrigin + now), as
 * each thread has its own performance.now origin.
 */
function heartbeatWorker(): void {
  const load = __non_webpack_require__ as NodeJS.Require;
  const { parentPort, workerData } = load(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  const { readFileSync } = load('node:fs') as typeof import('node:fs');
  const input = workerData as WorkerInput;
  const nats = load(input.natsPath) as typeof import('nats');
  const port = parentPort as import('node:worker_threads').MessagePort;
  // The global one: an imported binding would be renamed by the compiler, and undefined here.
  const clock = globalThis.performance;
  const post = (m: FromWorker) => port.postMessage(m);
  const now = () => clock.timeOrigin + clock.now();
  let plan: HeartbeatPlan | null = null;
  let lastAlive = clock.now();
  let seq = 0;
  let timer: NodeJS.Timeout | null = null;
  let nc: import('nats').NatsConnection | null = null;
  /** False from a disconnect to the next reconnect: beats then would only queue, and go out late. */
  let linked = false;
  let stopping = false;

  const beat = () => {
    if (!plan || !nc || !linked || stopping) return;
    // The agent's loop has stalled for too long: fall silent, as a dead node would.
    if (clock.now() - lastAlive > input.stallLimitMs) return;
    const sentAt = now();
    const body = {
      nodeId: plan.nodeId,
      incarnation: plan.incarnation,
      seq: seq++,
      sentAt: new Date().toISOString(),
    };
    nc.request(input.subject, new TextEncoder().encode(JSON.stringify(body)), {
      timeout: plan.timeoutMs,
    }).then(
      (msg) => {
        let reply: unknown = null;
        try {
          reply = JSON.parse(new TextDecoder().decode(msg.data));
        } catch {
          reply = null;
        }
        post({ type: 'replied', sentAt, body: reply });
      },
      (error: { code?: string }) =>
        post({
          type: 'failed',
          code: error.code === '503' ? 'UNAVAILABLE' : (error.code ?? 'UNAVAILABLE'),
        }),
    );
  };

  port.on(
    'message',
    (m: { type: 'start'; plan: HeartbeatPlan } | { type: 'alive' } | { type: 'stop' }) => {
      if (m.type === 'alive') lastAlive = clock.now();
      else if (m.type === 'start') {
        plan = m.plan;
        seq = 0;
        lastAlive = clock.now();
        if (timer) clearInterval(timer);
        timer = setInterval(beat, plan.intervalMs);
        beat();
      } else {
        stopping = true;
        if (timer) clearInterval(timer);
        const closed = nc ? nc.close() : Promise.resolve();
        void closed.finally(() => port.close());
      }
    },
  );

  const options: import('nats').ConnectionOptions = {
    ...input.connection.options,
    pingInterval: input.pingIntervalMs,
    maxPingOut: 3,
  };
  if (input.connection.credsFile) {
    options.authenticator = nats.credsAuthenticator(readFileSync(input.connection.credsFile));
  }
  nats.connect(options).then(
    (c) => {
      if (stopping) void c.close();
      else {
        nc = c;
        linked = true;
        void (async () => {
          for await (const status of c.status()) {
            if (status.type === 'disconnect') linked = false;
            else if (status.type === 'reconnect') linked = true;
          }
        })();
        beat();
      }
    },
    (error: Error) =>
      post({ type: 'error', message: `heartbeat thread cannot connect to NATS: ${error.message}` }),
  );
}

const WORKER_SOURCE = `const __non_webpack_require__ = require;\n(${heartbeatWorker.toString()})();\n`;

/**
 * Heartbeats from a worker thread with its own NATS connection (as Kafka's consumers heartbeat
 * from their own thread). On a 2-core machine running thousands of partitions, the agent's loop
 * is often busy or waiting for a CPU for a second; heartbeats sent from it arrived late enough
 * for health to declare live nodes DEAD, whose failovers made more work and more late
 * heartbeats. A thread that mostly sleeps is scheduled promptly when it wakes.
 */
export class ThreadHeartbeats implements HeartbeatChannel {
  private worker: Worker | null = null;
  private outcome: HeartbeatOutcome | null = null;
  private readonly clock: () => number;

  constructor(private readonly options: ThreadHeartbeatsOptions) {
    this.clock = options.clock ?? (() => performance.now());
  }

  open(): void {
    this.spawn();
  }

  start(plan: HeartbeatPlan, outcome: HeartbeatOutcome): void {
    this.outcome = outcome;
    this.spawn().postMessage({ type: 'start', plan });
  }

  alive(): void {
    this.worker?.postMessage({ type: 'alive' });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const workerData: WorkerInput = {
      natsPath: nodeRequire.resolve('nats'),
      connection: this.options.connection,
      subject: this.options.subject,
      stallLimitMs: this.options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS,
      pingIntervalMs: HEARTBEAT_PING_INTERVAL_MS,
    };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (error) => this.options.onError?.(error));
    // Never keeps the process alive on its own.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private receive(m: FromWorker): void {
    if (m.type === 'replied') {
      // Into the agent's clock: how long ago it was sent, by the absolute time both threads share.
      const age = performance.timeOrigin + performance.now() - m.sentAt;
      this.outcome?.replied(this.clock() - age, m.body);
    } else if (m.type === 'failed') this.outcome?.failed(m.code);
    else this.options.onError?.(new Error(m.message));
  }
}
