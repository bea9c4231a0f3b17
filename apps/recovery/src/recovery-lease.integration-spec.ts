import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect, type Msg, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { fullSubject, Subjects } from '@tessera/contracts';
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
import { RecoveryLease } from './lease/recovery-lease.service';

const ADMIN_TOKEN = 'recovery-lease-test-token';

interface Instance {
  name: string;
  port: number;
  proc: AppProcess;
}

interface Status {
  instance: string;
  active: boolean;
  term: string | null;
}

interface OperationRow {
  id: string;
  state: string;
  node_id: string;
  done: number;
  steps: { elected?: number; coordinatorOperationId?: string }[];
}

/** An election request as the fake consensus saw it, with who asked (the reply inbox prefix). */
interface HeldElection {
  from: string;
  msg: Msg;
}

/**
 * Two recovery instances against one database: the lease decides which one acts. Consensus and
 * health are played by the test, so it can hold an election in flight across a takeover.
 */
describe(`${RecoveryLease.name} (two recovery instances)`, () => {
  let t: TestEnv;
  let nc: NatsConnection;
  let network: NetworkManager;
  const instances: Instance[] = [];
  const held: HeldElection[] = [];
  /** Requesters (reply prefixes) answered at once, with the `elected` count to report. */
  const answer = new Map<string, number>();
  let answerEveryone: number | null = 9;
  /** The coordinator as the test plays it: re-placements asked for, and the migration's state. */
  const replaceRequests: { nodeId: string; from: string }[] = [];
  const migrationId = randomUUID();
  let migration = { state: 'RUNNING', done: 1, total: 4 };
  const subject = (relative: string) => fullSubject(t.cluster, relative);

  const start = async (name: string): Promise<Instance> => {
    const port = await freePort();
    const proc = startApp(
      'recovery',
      t.env({
        TESSERA_HTTP_PORT: String(port),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
        TESSERA_INSTANCE_ID: name,
        // Re-replications wait an hour unless a test cuts it short.
        TESSERA_RECOVERY_GRACE_MS: '3600000',
      }),
      name,
    );
    const instance = { name, port, proc };
    instances.push(instance);
    await waitFor(`${name} ready`, async () => (await http(instance, '/health/ready')).ok, {
      timeoutMs: 20_000,
    });
    return instance;
  };

  const http = (i: Instance, path: string, token: string | null = ADMIN_TOKEN) =>
    fetch(`http://127.0.0.1:${i.port}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const status = async (i: Instance): Promise<Status> =>
    (await (await http(i, '/api/v1/recovery')).json()) as Status;
  const activeOf = (candidates: Instance[]) =>
    waitFor(
      'an active recovery',
      async () => {
        const all = await Promise.all(candidates.map(async (i) => ({ i, s: await status(i) })));
        const active = all.filter((x) => x.s.active);
        return active.length === 1 ? active[0] : undefined;
      },
      { timeoutMs: 10_000 },
    );

  async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      return (await db.query<T>(text, values)).rows;
    } finally {
      await db.end();
    }
  }
  const operation = async (
    nodeId: string,
    kind: 'FAILOVER' | 'REREPLICATE' = 'FAILOVER',
  ): Promise<OperationRow | undefined> =>
    (
      await sql<OperationRow>(
        `SELECT id, state, node_id, done, steps FROM recovery.operation
          WHERE node_id = $1 AND kind = $2`,
        [nodeId, kind],
      )
    )[0];

  async function dead(nodeId: string): Promise<void> {
    const eventId = randomUUID();
    const event = {
      eventId,
      at: new Date().toISOString(),
      nodeId,
      state: 'DEAD',
      previous: 'SUSPECT',
    };
    await network.publishEvent(Subjects.events.nodeLiveness, event, eventId);
  }

  const reply = (msg: Msg, elected: number) =>
    msg.respond(JSON.stringify({ ok: true, elected, offline: 0, changed: elected }));

  beforeAll(async () => {
    t = await createTestEnv('recoverylease');
    nc = await connect({ servers: t.natsUrl });
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'recovery-lease-test');
    await network.connect();
    await network.ensureEventStream();
    nc.subscribe(subject(Subjects.consensus.electLeaders), {
      callback: (_err, msg) => {
        // nats.js replies land on `<inbox prefix of the connection>.<token>`.
        const from = (msg.reply ?? '').split('.').slice(0, -1).join('.');
        const elected = answer.get(from) ?? answerEveryone;
        if (elected === null) held.push({ from, msg });
        else reply(msg, elected);
      },
    });
    nc.subscribe(subject(Subjects.health.listNodes), {
      callback: (_err, msg) => msg.respond(JSON.stringify({ ok: true, nodes: [] })),
    });
    nc.subscribe(subject(Subjects.coordinator.replaceNode), {
      callback: (_err, msg) => {
        const { nodeId } = msg.json<{ nodeId: string }>();
        replaceRequests.push({ nodeId, from: (msg.reply ?? '').split('.').slice(0, -1).join('.') });
        msg.respond(JSON.stringify({ ok: true, nodeId, operationId: migrationId }));
      },
    });
    nc.subscribe(subject(Subjects.coordinator.getOperation), {
      callback: (_err, msg) => {
        const { id } = msg.json<{ id: string }>();
        if (id !== migrationId) {
          msg.respond(JSON.stringify({ ok: false, code: 'NOT_FOUND', message: `no operation ${id}` }));
          return;
        }
        const operation = {
          id,
          kind: 'REPLACE',
          state: migration.state,
          subject: 'n-rr',
          progress: { done: migration.done, total: migration.total },
          startedAt: new Date().toISOString(),
          finishedAt: null,
          error: null,
        };
        msg.respond(JSON.stringify({ ok: true, operation }));
      },
    });
  }, 30_000);

  afterAll(async () => {
    // A paused process cannot take SIGTERM: resume everything before stopping it.
    for (const i of instances) i.proc.signal('SIGCONT');
    await stopAll(instances.map((i) => i.proc));
    await network?.close();
    await nc?.close();
    await t?.destroy();
  }, 30_000);

  it('makes exactly one instance active, with a term; the other stands by', async () => {
    const [a, b] = [await start('rec-a'), await start('rec-b')];
    const { i: active, s } = await activeOf([a, b]);
    expect(s).toEqual({
      instance: active.name,
      active: true,
      term: expect.stringMatching(/^[1-9][0-9]*$/),
    });
    const standby = active === a ? b : a;
    expect(await status(standby)).toEqual({ instance: standby.name, active: false, term: null });
    expect((await http(standby, '/health/ready')).ok).toBe(true);
    expect((await http(standby, '/api/v1/recovery', null)).status).toBe(401);
  });

  it('only the active instance takes liveness events: a frozen standby holds none back', async () => {
    const { i: active } = await activeOf(instances);
    const standby = instances.find((i) => i !== active)!;
    // A standby that pulled events while frozen would keep them for the 10 s ack wait.
    standby.proc.signal('SIGSTOP');
    try {
      for (const node of ['s1', 's2', 's3']) await dead(node);
      for (const node of ['s1', 's2', 's3']) {
        const op = await waitFor(
          `the failover of ${node}`,
          async () => {
            const row = await operation(node);
            return row?.state === 'SUCCEEDED' ? row : undefined;
          },
          { timeoutMs: 5_000 },
        );
        expect(op.done).toBe(9);
      }
    } finally {
      standby.proc.signal('SIGCONT');
    }
  });

  it('the standby takes over when the holder dies, with a higher term, and finishes its operation', async () => {
    const { i: old, s: before } = await activeOf(instances);
    const standby = instances.find((i) => i !== old)!;
    answerEveryone = null; // hold every election
    await dead('n-kill');
    const first = await waitFor('the holder to ask for the election', () => held[0]);
    expect((await operation('n-kill'))?.state).toBe('RUNNING');
    old.proc.signal('SIGKILL');
    await old.proc.exited;

    const { i: next, s: after } = await activeOf([standby]);
    expect(BigInt(after.term!)).toBeGreaterThan(BigInt(before.term!));
    // The new holder resumes the RUNNING operation: its own election request arrives.
    const resumed = await waitFor('the resumed election', () =>
      held.find((h) => h.from !== first.from),
    );
    reply(resumed.msg, 4);
    const op = await waitFor('the operation finished by the new holder', async () => {
      const row = await operation('n-kill');
      return row?.state === 'SUCCEEDED' ? row : undefined;
    });
    expect(op.done).toBe(4);
    expect(next).toBe(standby);
    held.length = 0;
    answerEveryone = 9;
  });

  it('fences a frozen ex-holder: after the takeover its late end of the operation never lands', async () => {
    const c = await start('rec-c');
    const { i: old } = await activeOf(
      instances.filter((i) => i.proc.child.exitCode === null && i.proc.child.signalCode === null),
    );
    const standby = c === old ? instances.find((i) => i.name === 'rec-b')! : c;
    answerEveryone = null;
    await dead('n-pause');
    const first = await waitFor('the holder to ask for the election', () => held[0]);
    old.proc.signal('SIGSTOP');
    let answeredOld = 0;
    try {
      await activeOf([standby]);
      const resumed = await waitFor('the new holder’s election', () =>
        held.find((h) => h.from !== first.from),
      );
      // Wake the old holder and answer it at once (its held request and any retry): it must not
      // be able to record that answer; the new holder's election stays in flight meanwhile.
      answer.set(first.from, 111);
      old.proc.signal('SIGCONT');
      for (const h of held.filter((x) => x.from === first.from)) {
        reply(h.msg, 111);
        answeredOld++;
      }
      await waitFor('the old holder to stand by', async () => !(await status(old)).active);
      // Give its answer time to come back and its write (retried every second) to be refused.
      await new Promise((r) => setTimeout(r, 2_500));
      const during = await operation('n-pause');
      expect(during?.state).toBe('RUNNING');

      reply(resumed.msg, 7);
      const op = await waitFor('the operation finished by the new holder', async () => {
        const row = await operation('n-pause');
        return row?.state === 'SUCCEEDED' ? row : undefined;
      });
      expect(op.done).toBe(7);
      expect(op.steps.map((s) => s.elected)).toEqual([7]);
      expect(answeredOld).toBeGreaterThan(0);
      const [lease] = await sql<{ holder: string }>(
        `SELECT holder FROM recovery.lease WHERE role = 'active-recovery'`,
      );
      expect(lease?.holder).toBe(standby.name);
    } finally {
      old.proc.signal('SIGCONT');
      answerEveryone = 9;
    }
  });

  it('a re-replication killed mid-way with its holder is finished by the standby, without asking twice', async () => {
    const live = instances.filter((i) => i.proc.child.exitCode === null && i.proc.child.signalCode === null);
    const { i: old } = await activeOf(live);
    const standby = live.find((i) => i !== old)!;
    await dead('n-rr');
    const pending = await waitFor('the re-replication waiting out its grace delay', async () => {
      const row = await operation('n-rr', 'REREPLICATE');
      return row?.state === 'PENDING' ? row : undefined;
    });
    // The operator cuts the 30 s default short (as `PATCH /api/v1/operations/:id` does).
    const update = await nc.request(
      subject(Subjects.recovery.updateOperation),
      JSON.stringify({ id: pending.id, graceMs: 0 }),
      { timeout: 5_000 },
    );
    expect(update.json()).toMatchObject({ ok: true, operation: { id: pending.id, kind: 'REREPLICATE' } });
    await waitFor('the migration followed at 1/4', async () => {
      const row = await operation('n-rr', 'REREPLICATE');
      return row?.state === 'RUNNING' && row.done === 1 ? row : undefined;
    });
    expect(replaceRequests).toHaveLength(1);
    old.proc.signal('SIGKILL');
    await old.proc.exited;

    await activeOf([standby]);
    migration = { state: 'RUNNING', done: 3, total: 4 };
    await waitFor('the standby following the same migration', async () => (await operation('n-rr', 'REREPLICATE'))?.done === 3);
    migration = { state: 'SUCCEEDED', done: 4, total: 4 };
    const done = await waitFor('the re-replication finished by the standby', async () => {
      const row = await operation('n-rr', 'REREPLICATE');
      return row?.state === 'SUCCEEDED' ? row : undefined;
    });
    expect(done.done).toBe(4);
    expect(done.steps[1]?.coordinatorOperationId).toBe(migrationId);
    // The standby read the migration id from Postgres: it never asked for a second re-placement.
    expect(replaceRequests.map((r) => r.nodeId)).toEqual(['n-rr']);
  });
});
