import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeViewV1 } from '@tessera/contracts';
import { freePort, waitFor } from '@tessera/testing';
import { History } from './history';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
/** The controller lease (3 s) plus the 5 s RELIABILITY S13 allows. */
const RESUME_WITHIN_MS = 8_000;

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
class OwnPostgres {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-s13-'));
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
    await waitFor('Postgres to accept connections', () => this.accepts(), {
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

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}

/**
 * RELIABILITY S13: the Postgres server stopped immediately (no checkpoint) and started again
 * under a client writing to every partition. No epoch may be reused, every service must be ready
 * again and writes acknowledged within the controller lease + 5 s of the restart, and the
 * checkers stay clean.
 */
describe('faults: Postgres restarted immediately under load (S13)', () => {
  let pg: OwnPostgres;
  let fleet: WrittenFleet;
  const history = new History('s13-postgres-restart');

  beforeAll(async () => {
    pg = await OwnPostgres.start();
    fleet = await WrittenFleet.start('s13', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
      postgresUrl: pg.url,
    });
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
    await pg?.stop();
  }, 60_000);

  it('S13: no epoch reused; services ready and writes acknowledged within lease + 5 s of the restart', async () => {
    const before = await fleet.resource();
    history.fault('SIGKILL', 'postgres');
    await pg.stopImmediately();
    await new Promise((r) => setTimeout(r, 1_000));
    const restartedAt = history.fault('restart', 'postgres');
    await pg.startServer();

    await Promise.all(
      [...fleet.cluster.instances.values()].map((instance) =>
        waitFor(
          `${instance.id} ready again`,
          async () =>
            (await fetch(`http://127.0.0.1:${instance.port}/health/ready`).catch(() => null))?.ok,
          { timeoutMs: RESUME_WITHIN_MS, intervalMs: 100 },
        ).catch(fleet.withLogs),
      ),
    );
    const readyAt = Date.now();
    await waitFor(
      'writes acknowledged on every partition after the restart',
      () => before.partitions.every((p) => fleet.writer.acked(p.partition, readyAt) > 0),
      { timeoutMs: Math.max(1_000, restartedAt + RESUME_WITHIN_MS - Date.now()) },
    ).catch(fleet.withLogs);

    // No epoch went back, and the control plane still works: a write to the map goes through.
    const after = await fleet.resource();
    for (const p of after.partitions)
      expect(p.epoch).toBeGreaterThanOrEqual(before.partitions[p.partition].epoch);
    const nodes = (await fleet.cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
    expect(nodes.map((n) => [n.id, n.state])).toEqual(NODES.map((n) => [n.id, 'ALIVE']));
    const created = await fleet.cluster.api('POST', '/resources', {
      name: 'after',
      partitions: 2,
      replicationFactor: 3,
    });
    expect(created.status).toBe(201);
    for (const proc of [...fleet.cluster.services.values(), ...fleet.cluster.nodes.values()])
      expect({ name: proc.name, exitCode: proc.child.exitCode }).toEqual({
        name: proc.name,
        exitCode: null,
      });
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
  });
});
