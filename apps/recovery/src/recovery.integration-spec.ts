import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { fullSubject, type OperationV1, Subjects } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import {
  type AppProcess,
  createTestEnv,
  startApp,
  stopAll,
  type TestEnv,
  waitFor,
} from '@tessera/testing';
import { RecoveryManager } from './operations/recovery-manager.service';

const ADMIN_TOKEN = 'recovery-test-token';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface ElectRequest {
  unavailable: string[];
  reason: string;
}

describe(RecoveryManager.name, () => {
  let t: TestEnv;
  let nc: NatsConnection;
  let network: NetworkManager;
  let sut: AppProcess;
  let port: number;
  const elections: ElectRequest[] = [];
  let consensusFails = false;
  const subject = (relative: string) => fullSubject(t.cluster, relative);

  const start = async () => {
    const app = startApp(
      'recovery',
      t.env({
        TESSERA_HTTP_PORT: String(port),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
      }),
    );
    await waitFor('recovery ready', async () => (await http('/health/ready')).ok, {
      timeoutMs: 20_000,
    });
    return app;
  };

  const http = (path: string, token: string | null = ADMIN_TOKEN) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  async function operations(): Promise<OperationV1[]> {
    const reply = await nc.request(subject(Subjects.recovery.listOperations), JSON.stringify({}), {
      timeout: 2_000,
    });
    return reply.json<{ operations: OperationV1[] }>().operations;
  }

  const finished = (op: OperationV1 | undefined) =>
    op !== undefined && op.state !== 'RUNNING' && op.state !== 'PENDING';

  async function liveness(
    nodeId: string,
    state: string,
    previous: string | null,
    at = new Date(),
  ): Promise<string> {
    const eventId = randomUUID();
    const event = { eventId, at: at.toISOString(), nodeId, state, previous };
    await network.publishEvent(Subjects.events.nodeLiveness, event, eventId);
    return eventId;
  }

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      return (await db.query<T>(text, values)).rows;
    } finally {
      await db.end();
    }
  }

  beforeAll(async () => {
    t = await createTestEnv('recovery');
    nc = await connect({ servers: t.natsUrl });
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'recovery-test');
    await network.connect();
    await network.ensureEventStream();
    // Play consensus: record every election and answer it (or refuse it, when told to).
    nc.subscribe(subject(Subjects.consensus.electLeaders), {
      callback: (_err, msg) => {
        elections.push(msg.json<ElectRequest>());
        const reply = consensusFails
          ? { ok: false, code: 'UNAVAILABLE', message: 'consensus lost its lease' }
          : { ok: true, elected: 3, offline: 1, changed: 5 };
        msg.respond(JSON.stringify(reply));
      },
    });
    // Play health: n0 has been DEAD since before recovery started.
    nc.subscribe(subject(Subjects.health.listNodes), {
      callback: (_err, msg) => {
        const nodes = [{ nodeId: 'n0', state: 'DEAD', lastHeartbeatAt: null, phi: null }];
        msg.respond(JSON.stringify({ ok: true, nodes }));
      },
    });
    port = await freePort();
    sut = await start();
  }, 40_000);

  afterAll(async () => {
    await stopAll([sut].filter(Boolean));
    await network?.close();
    await nc?.close();
    await t?.destroy();
  }, 30_000);

  it('fails over a DEAD node: persists an operation, asks consensus to elect, records success', async () => {
    await liveness('n1', 'DEAD', 'SUSPECT');
    const [op] = await waitFor('a finished operation', async () => {
      const ops = await operations();
      return ops.length === 1 && finished(ops[0]) ? ops : undefined;
    });
    expect(op).toMatchObject({
      kind: 'FAILOVER',
      state: 'SUCCEEDED',
      subject: 'n1',
      progress: { done: 3, total: 4 },
      error: null,
    });
    expect(Date.parse(op!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(op!.startedAt));
    // Every DEAD node is unavailable: n1 from the event, n0 from health's snapshot.
    expect(elections).toEqual([{ unavailable: ['n0', 'n1'], reason: 'NODE_DEAD' }]);
    const [row] = await sql<{ steps: unknown[] }>(
      'SELECT steps FROM recovery.operation WHERE id = $1',
      [op!.id],
    );
    expect(row!.steps).toEqual([
      {
        name: 'elect',
        state: 'SUCCEEDED',
        reason: 'NODE_DEAD',
        unavailable: ['n0', 'n1'],
        elected: 3,
        offline: 1,
        changed: 5,
      },
    ]);
  });

  it('handles a redelivered event once, and a return from DEAD with the nodes still dead', async () => {
    const [first] = await sql<{ event_id: string }>('SELECT event_id FROM recovery.inbox');
    // The same event again, as another stream message (past JetStream's duplicate window).
    await nc
      .jetstream()
      .publish(
        subject(Subjects.events.nodeLiveness),
        JSON.stringify({
          eventId: first!.event_id,
          at: new Date().toISOString(),
          nodeId: 'n1',
          state: 'DEAD',
          previous: 'SUSPECT',
        }),
        { msgID: randomUUID() },
      );
    await liveness('n1', 'ALIVE', 'DEAD');
    // Events are handled in stream order: once the return is done, the redelivery was handled.
    await waitFor('the return handled', async () => {
      const ops = await operations();
      return ops.length >= 2 && ops.every(finished) ? ops : undefined;
    });
    expect((await operations()).map((o) => [o.subject, o.state])).toEqual([
      ['n1', 'SUCCEEDED'],
      ['n1', 'SUCCEEDED'],
    ]);
    expect(elections).toEqual([
      { unavailable: ['n0', 'n1'], reason: 'NODE_DEAD' },
      { unavailable: ['n0'], reason: 'NODE_RETURNED' },
    ]);
    // An older change of n1 arriving late (a nak'ed event redelivered) must not undo its return;
    // the next test shows it started no operation.
    await liveness('n1', 'DEAD', 'SUSPECT', new Date(Date.now() - 60_000));
  });

  it('drops malformed and stale events without crashing, and records a refused election as FAILED', async () => {
    for (const junk of [
      '{}',
      '[]',
      '"DEAD"',
      JSON.stringify({ eventId: 'e1', nodeId: 'n9', state: 'DEAD', previous: null }),
    ]) {
      await nc
        .jetstream()
        .publish(subject(Subjects.events.nodeLiveness), junk, { msgID: randomUUID() });
    }
    await nc
      .jetstream()
      .publish(subject(Subjects.events.nodeLiveness), 'not json', { msgID: randomUUID() });
    await liveness('n9', 'SUSPECT', 'ALIVE'); // no operation: SUSPECT is not DEAD
    consensusFails = true;
    await liveness('n2', 'DEAD', 'SUSPECT');
    const failed = await waitFor('the failed operation', async () =>
      (await operations()).find((o) => o.subject === 'n2' && finished(o)),
    );
    expect(failed).toMatchObject({
      state: 'FAILED',
      error: expect.stringContaining('consensus lost its lease'),
    });
    expect((await operations()).map((o) => o.subject).sort()).toEqual(['n1', 'n1', 'n2']);
    expect(sut.child.exitCode).toBeNull();
    consensusFails = false;
  });

  it('serves operations over REST behind the admin token', async () => {
    const all = await operations();
    expect((await http('/api/v1/operations', null)).status).toBe(401);
    const list = await http('/api/v1/operations');
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ operations: all });
    expect(await (await http('/api/v1/operations?limit=1')).json()).toEqual({
      operations: all.slice(0, 1),
    });
    expect((await http('/api/v1/operations?limit=0')).status).toBe(400);
    const one = await http(`/api/v1/operations/${all[0]!.id}`);
    expect(await one.json()).toEqual(all[0]);
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const missing = await http(`/api/v1/operations/${id}`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('resumes an operation a crash left RUNNING', async () => {
    await sut.stop();
    const id = randomUUID();
    await sql(
      `INSERT INTO recovery.operation (id, kind, state, node_id, steps) VALUES ($1, 'FAILOVER', 'RUNNING', 'n3', $2::jsonb)`,
      [id, JSON.stringify([{ name: 'elect', state: 'PENDING', reason: 'NODE_DEAD' }])],
    );
    const electionsBefore = elections.length;
    sut = await start();
    const resumed = await waitFor('the resumed operation', async () => {
      const op = (await operations()).find((o) => o.id === id);
      return finished(op) ? op : undefined;
    });
    expect(resumed).toMatchObject({
      state: 'SUCCEEDED',
      subject: 'n3',
      progress: { done: 3, total: 4 },
    });
    // n0 from health's snapshot (the fake health knows no other), n3 as the node the resumed
    // operation fails over.
    expect(elections.slice(electionsBefore)).toEqual([
      { unavailable: ['n0', 'n3'], reason: 'NODE_DEAD' },
    ]);
  });
});
