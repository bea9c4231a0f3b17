import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@tessera/testing';

/**
 * Servers a fault suite runs for itself, so it can kill and restart them without touching the
 * machine's shared NATS and Postgres (other suites use those).
 */

const NATS_SERVER = '/usr/sbin/nats-server';

/** True once something accepts TCP connections on the port (127.0.0.1). */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A nats-server of this suite's own, with JetStream on disk, so it can be killed and restarted. */
export class OwnNatsServer {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly storeDir: string,
    /** Its HTTP monitoring port (`-m`), when asked for. */
    readonly monitorPort: number | null,
  ) {}

  static async start(options: { monitor?: boolean } = {}): Promise<OwnNatsServer> {
    const server = new OwnNatsServer(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'tessera-nats-')),
      options.monitor ? await freePort() : null,
    );
    await server.restart();
    return server;
  }

  /** The subjects each client connection (by name) subscribes to now (needs `monitor`). */
  async subscriptionsByClient(): Promise<Map<string, string[]>> {
    if (this.monitorPort === null) throw new Error('started without monitoring');
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?subs=1&limit=4096`);
    const { connections } = (await res.json()) as {
      connections: { cid: number; name?: string; subscriptions_list?: string[] }[];
    };
    const byClient = new Map<string, string[]>();
    for (const c of connections) {
      const name = c.name || `cid ${c.cid}`;
      byClient.set(name, [...(byClient.get(name) ?? []), ...(c.subscriptions_list ?? [])]);
    }
    return byClient;
  }

  /** How many subscriptions the server holds, all clients together (needs `monitor`). */
  async subscriptions(): Promise<number> {
    if (this.monitorPort === null) throw new Error('started without monitoring');
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/varz`);
    return ((await res.json()) as { subscriptions: number }).subscriptions;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) on the same port and store, and waits until it accepts connections. */
  async restart(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    if (this.monitorPort !== null) args.push('-m', String(this.monitorPort));
    this.proc = spawn(NATS_SERVER, args, { stdio: 'ignore' });
    await waitFor('nats-server to accept connections', () => acceptsConnections(this.port), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  }

  kill(): void {
    if (this.proc?.pid) process.kill(this.proc.pid, 'SIGKILL');
    this.proc = null;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc?.pid && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Debian's Postgres binaries (any version). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort().pop();
  if (!version) throw new Error(`no Postgres under ${root}`);
  return join(root, version, 'bin');
}

/**
 * A Postgres server of this suite's own (initdb into a temp directory, trust auth, a free port),
 * run as the `postgres` user, so it can be shut down with an immediate stop and started again.
 */
export class OwnPostgres {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
    const { uid, gid } = userIds('postgres');
    chownSync(dir, uid, gid);
    execFileSync(
      'runuser',
      [
        '-u',
        'postgres',
        '--',
        join(postgresBin(), 'initdb'),
        '-D',
        join(dir, 'data'),
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
      ],
      { stdio: 'ignore' },
    );
    const server = new OwnPostgres(await freePort(), dir);
    await server.startServer();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async startServer(): Promise<void> {
    const args = [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=on',
    ];
    this.proc = spawn(
      'runuser',
      ['-u', 'postgres', '--', join(postgresBin(), 'postgres'), ...args],
      {
        stdio: 'ignore',
      },
    );
    await waitFor('Postgres to accept connections', () => acceptsConnections(this.port), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
  }

  /** An immediate shutdown (SIGQUIT to the postmaster: no checkpoint, crash recovery at start). */
  async stopImmediately(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid !== null) process.kill(pid, 'SIGQUIT');
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null)
      await new Promise((r) => proc.once('exit', r));
  }

  async stop(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid !== null) process.kill(pid, 'SIGINT'); // fast shutdown
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null)
      await new Promise((r) => proc.once('exit', r));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private postmasterPid(): number | null {
    const file = join(this.dir, 'data', 'postmaster.pid');
    if (!existsSync(file)) return null;
    const pid = Number(execFileSync('head', ['-1', file]).toString().trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}
