import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { fullSubject, type OperationV1, Subjects } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import {
  type AppProcess,
  createTestEnv,
  freePort,
  startApp,
  stopAll,
  type TestEnv,
  waitFor,
} from '@tessera/testing';
import { RecoveryManager } from './operations/recovery-manager.service';

const ADMIN_TOKEN = 'recovery-test-token';
/** Long enough that the failover tests never see a re-replication start, short enough to wait for. */
const GRACE_MS = 3_000;


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
  /** Nodes health reports when asked about one node (re-replication checks before acting). */
  const healthStates = new Map<string, string>();
  const replaceRequests: string[] = [];
  const migrationId = randomUUID();
  let migration = { state: 'RUNNING', done: 0, total: 6 };
  const subject = (relative: string) => fullSubject(t.cluster, relative);

  const start = async () => {
    const app = startApp(
      'recovery',
      t.env({
        TESSERA_HTTP_PORT: String(port),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
        TESSERA_RECOVERY_GRACE_MS: String(GRACE_MS),
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

  async function allOperations(): Promise<OperationV1[]> {
    const reply = await nc.request(subject(Subjects.recovery.listOperations), JSON.stringify({}), {
      timeout: 2_000,
    });
    return reply.json<{ operations: OperationV1[] }>().operations;
  }
  const operations = async (kind: OperationV1['kind'] = 'FAILOVER') =>
    (await allOperations()).filter((o) => o.kind === kind);
  const rereplication = async (nodeId: string) =>
    (await operations('REREPLICATE')).find((o) => o.subject === nodeId);
  async function setGrace(id: string, graceMs: unknown): Promise<Record<string, unknown>> {
    const reply = await nc.request(subject(Subjects.recovery.updateOperation), JSON.stringify({ id, graceMs }), {
      timeout: 2_000,
    });
    return reply.json<Record<string, unknown>>();
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
        const { nodeId } = msg.json<{ nodeId?: string }>();
        const state = nodeId === undefined ? undefined : healthStates.get(nodeId);
        const nodes =
          nodeId === undefined
            ? [{ nodeId: 'n0', state: 'DEAD', lastHeartbeatAt: null, phi: null }]
            : state === undefined
              ? []
              : [{ nodeId, state, lastHeartbeatAt: null, phi: null }];
        msg.respond(JSON.stringify({ ok: true, nodes }));
      },
    });
    // Play the coordinator: a re-placement migration whose progress the test moves.
    nc.subscribe(subject(Subjects.coordinator.replaceNode), {
      callback: (_err, msg) => {
        const { nodeId } = msg.json<{ nodeId: string }>();
        replaceRequests.push(nodeId);
        msg.respond(JSON.stringify({ ok: true, nodeId, operationId: nodeId === 'n-empty' ? null : migrationId }));
      },
    });
    nc.subscribe(subject(Subjects.coordinator.getOperation), {
      callback: (_err, msg) => {
        const operation = {
          id: migrationId,
          kind: 'REPLACE',
          state: migration.state,
          subject: 'n5',
          progress: { done: migration.done, total: migration.total },
          startedAt: new Date().toISOString(),
          finishedAt: null,
          error: migration.state === 'FAILED' ? 'no node can take the replicas' : null,
        };
        msg.respond(JSON.stringify({ ok: true, operation }));
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
    expect((await operations('REREPLICATE')).map((o) => o.subject).sort()).toEqual(['n1', 'n2']);
    expect(sut.child.exitCode).toBeNull();
    consensusFails = false;
  });

  it('serves operations over REST behind the admin token', async () => {
    const all = await allOperations();
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

  it('re-replicates a node still DEAD after the grace delay, following the coordinator’s migration', async () => {
    healthStates.set('n5', 'DEAD');
    const deathAt = new Date();
    await liveness('n5', 'DEAD', 'SUSPECT', deathAt);
    const pending = await waitFor('the scheduled re-replication', () => rereplication('n5'));
    expect(pending).toMatchObject({ state: 'PENDING', dueAt: new Date(deathAt.getTime() + GRACE_MS).toISOString() });
    expect(replaceRequests).not.toContain('n5');
    await waitFor('the migration followed', async () => (await rereplication('n5'))?.state === 'RUNNING', {
      timeoutMs: GRACE_MS + 10_000,
    });
    expect(replaceRequests.filter((n) => n === 'n5')).toHaveLength(1);
    migration = { state: 'RUNNING', done: 2, total: 6 };
    await waitFor('progress mirrored', async () => (await rereplication('n5'))?.progress.done === 2);
    migration = { state: 'SUCCEEDED', done: 6, total: 6 };
    const done = await waitFor('the re-replication finished', async () => {
      const op = await rereplication('n5');
      return finished(op) ? op : undefined;
    });
    expect(done).toMatchObject({ state: 'SUCCEEDED', progress: { done: 6, total: 6 }, error: null });
    const [row] = await sql<{ steps: unknown[] }>('SELECT steps FROM recovery.operation WHERE id = $1', [done.id]);
    expect(row!.steps).toEqual([
      { name: 'grace', deathAt: deathAt.toISOString(), graceMs: GRACE_MS },
      { name: 'replace', state: 'SUCCEEDED', coordinatorOperationId: migrationId },
    ]);
  });

  it('cancels the re-replication of a node that returns within its grace delay, and of one health sees ALIVE', async () => {
    await liveness('n6', 'DEAD', 'SUSPECT');
    await liveness('n6', 'ALIVE', 'DEAD');
    const cancelled = await waitFor('the cancelled re-replication', async () => {
      const op = await rereplication('n6');
      return finished(op) ? op : undefined;
    });
    expect(cancelled).toMatchObject({ state: 'CANCELLED', error: 'the node returned within its grace delay' });

    // A return recovery has not consumed yet: health's answer at the due time decides.
    healthStates.set('n7', 'ALIVE');
    await liveness('n7', 'DEAD', 'SUSPECT', new Date(Date.now() - GRACE_MS));
    const skipped = await waitFor('the skipped re-replication', async () => {
      const op = await rereplication('n7');
      return finished(op) ? op : undefined;
    });
    expect(skipped).toMatchObject({ state: 'CANCELLED', error: 'the node is ALIVE again' });
    expect(replaceRequests).not.toContain('n6');
    expect(replaceRequests).not.toContain('n7');
  });

  it('lets an operator change a pending grace delay, and refuses bad or impossible changes', async () => {
    const deathAt = new Date();
    await liveness('n8', 'DEAD', 'SUSPECT', deathAt);
    const pending = await waitFor('the scheduled re-replication', () => rereplication('n8'));
    const later = await setGrace(pending.id, 3_600_000);
    expect(later).toMatchObject({
      ok: true,
      operation: { id: pending.id, state: 'PENDING', dueAt: new Date(deathAt.getTime() + 3_600_000).toISOString() },
    });
    for (const bad of [-1, 1.5, '0', null, 86_400_001]) {
      expect(await setGrace(pending.id, bad)).toMatchObject({ ok: false, code: 'INVALID' });
    }
    expect(await setGrace(randomUUID(), 0)).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    const failover = (await operations()).find((o) => o.subject === 'n8')!;
    expect(await setGrace(failover.id, 0)).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect((await rereplication('n8'))?.dueAt).toBe(new Date(deathAt.getTime() + 3_600_000).toISOString());

    healthStates.set('n8', 'DEAD');
    migration = { state: 'FAILED', done: 1, total: 6 };
    expect(await setGrace(pending.id, 0)).toMatchObject({ ok: true, operation: { dueAt: deathAt.toISOString() } });
    const failed = await waitFor('the re-replication ended', async () => {
      const op = await rereplication('n8');
      return finished(op) ? op : undefined;
    });
    expect(failed).toMatchObject({
      state: 'FAILED',
      error: 'the re-placement failed: no node can take the replicas',
    });
    expect(await setGrace(pending.id, 10)).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(sut.child.exitCode).toBeNull();
  });
});
