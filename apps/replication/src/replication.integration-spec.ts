import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { fullSubject, type ReplicaProgressV1, Subjects } from '@tessera/contracts';
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
import { ReplicationManager } from './progress/replication-manager.service';

const ADMIN_TOKEN = 'replication-test-token';

type Position = {
  resource: string;
  partition: number;
  role: string;
  leaderEpoch: string;
  logEndOffset: number;
};
const pos = (
  resource: string,
  partition: number,
  role: string,
  logEndOffset: number,
  leaderEpoch = '3',
): Position => ({
  resource,
  partition,
  role,
  leaderEpoch,
  logEndOffset,
});

describe(ReplicationManager.name, () => {
  let t: TestEnv;
  let nc: NatsConnection;
  let network: NetworkManager;
  let sut: AppProcess;
  let port: number;
  const subject = (relative: string) => fullSubject(t.cluster, relative);

  async function list(resource?: string): Promise<ReplicaProgressV1[]> {
    const reply = await nc.request(
      subject(Subjects.replication.listReplicas),
      JSON.stringify(resource ? { resource } : {}),
      {
        timeout: 2_000,
      },
    );
    const body = reply.json<{ ok: boolean; replicas: ReplicaProgressV1[]; code?: string }>();
    if (!body.ok) throw new Error(`list refused: ${body.code}`);
    return body.replicas;
  }

  const summary = (replicas: ReplicaProgressV1[]) =>
    replicas.map(
      (r) =>
        `${r.resource}/${r.partition}@${r.nodeId} ${r.role} leo=${r.logEndOffset} lag=${r.lag}`,
    );

  function report(nodeId: string, replicas: Position[], partial?: true): void {
    nc.publish(
      subject(Subjects.replication.report(nodeId)),
      JSON.stringify({ nodeId, replicas, ...(partial ? { partial } : {}) }),
    );
  }

  /** A report sent as a request: replication answers only when it refuses it. */
  async function refusalOf(nodeId: string, data: string): Promise<string> {
    const reply = await nc.request(subject(Subjects.replication.report(nodeId)), data, {
      timeout: 2_000,
    });
    return reply.json<{ code: string }>().code;
  }

  const http = (path: string, token?: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  beforeAll(async () => {
    t = await createTestEnv('replication');
    nc = await connect({ servers: t.natsUrl });
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'replication-test');
    await network.connect();
    await network.ensureEventStream();
    port = await freePort();
    sut = startApp(
      'replication',
      t.env({
        TESSERA_HTTP_PORT: String(port),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
      }),
    );
    await waitFor('replication to answer', async () => (await list()) !== undefined, {
      timeoutMs: 20_000,
    });
    await waitFor('replication ready', async () => (await http('/health/ready')).ok, {
      timeoutMs: 20_000,
    });
  }, 40_000);

  afterAll(async () => {
    await stopAll([sut].filter(Boolean));
    await network?.close();
    await nc?.close();
    await t?.destroy();
  }, 30_000);

  it("lists each replica's lag behind its partition leader", async () => {
    report('n1', [pos('orders', 0, 'LEADER', 100), pos('orders', 1, 'FOLLOWER', 40)]);
    report('n2', [pos('orders', 0, 'FOLLOWER', 90), pos('orders', 1, 'LEADER', 50)]);
    report('n3', [pos('users', 0, 'FOLLOWER', 12)]);
    await waitFor('five replicas', async () => (await list()).length === 5);
    expect(summary(await list())).toEqual([
      'orders/0@n1 LEADER leo=100 lag=0',
      'orders/0@n2 FOLLOWER leo=90 lag=10',
      'orders/1@n1 FOLLOWER leo=40 lag=10',
      'orders/1@n2 LEADER leo=50 lag=0',
      'users/0@n3 FOLLOWER leo=12 lag=null',
    ]);
    expect((await list('users')).map((r) => r.nodeId)).toEqual(['n3']);
  });

  it('updates positions, but never with one from an older leader epoch', async () => {
    report('n2', [pos('orders', 0, 'FOLLOWER', 100)]);
    await waitFor(
      'n2 caught up',
      async () =>
        (await list('orders')).find((r) => r.nodeId === 'n2' && r.partition === 0)?.lag === 0,
    );
    // One statement: once orders/2 shows up, the stale position beside it was considered too.
    report('n2', [pos('orders', 0, 'FOLLOWER', 0, '2'), pos('orders', 2, 'FOLLOWER', 7)]);
    await waitFor('orders/2', async () => (await list('orders')).some((r) => r.partition === 2));
    const n2p0 = (await list('orders')).find((r) => r.nodeId === 'n2' && r.partition === 0)!;
    expect([n2p0.logEndOffset, n2p0.leaderEpoch]).toEqual([100, '3']);
  });

  it('writes only what a report changed; a whole report keeps every replica it names fresh', async () => {
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      const rows = async () => {
        const { rows: found } = await db.query<{
          partition: number;
          leo: string;
          held: boolean;
          at: Date;
        }>(
          `SELECT partition, log_end_offset::text AS leo, held, reported_at AS at
             FROM replication.replica_progress WHERE node_id = 'n4' ORDER BY partition`,
        );
        return found.map((r) => ({ ...r, at: r.at.getTime() }));
      };
      const nodeReportAt = async () => {
        const { rows: found } = await db.query<{ at: Date }>(
          `SELECT reported_at AS at FROM replication.node_report WHERE node_id = 'n4'`,
        );
        return found[0]?.at.getTime() ?? 0;
      };
      const listed = async (partition: number) =>
        new Date(
          (await list('audit')).find((r) => r.nodeId === 'n4' && r.partition === partition)!
            .reportedAt,
        ).getTime();
      const afterNodeReport = async (before: number) => {
        await waitFor('a newer whole report of n4', async () => (await nodeReportAt()) > before);
        return nodeReportAt();
      };

      report('n4', [pos('audit', 0, 'FOLLOWER', 5), pos('audit', 1, 'FOLLOWER', 6)]);
      await waitFor('both replicas', async () => (await rows()).length === 2);
      const first = await rows();
      const firstReport = await nodeReportAt();

      // Nothing changed: no row is rewritten, and both are as fresh as the node's report.
      report('n4', [pos('audit', 0, 'FOLLOWER', 5), pos('audit', 1, 'FOLLOWER', 6)]);
      const second = await afterNodeReport(firstReport);
      expect(await rows()).toEqual(first);
      expect([await listed(0), await listed(1)]).toEqual([second, second]);

      // A whole report that leaves audit/1 out: audit/0 moved, audit/1 is no longer held and ages.
      report('n4', [pos('audit', 0, 'FOLLOWER', 7)]);
      const third = await afterNodeReport(second);
      expect((await rows()).map((r) => [r.partition, r.leo, r.held])).toEqual([
        [0, '7', true],
        [1, '6', false],
      ]);
      expect(await listed(1)).toBe(first[1].at);

      // A partial report names audit/1 again: held, moved, and the node's freshness untouched.
      report('n4', [pos('audit', 1, 'FOLLOWER', 8)], true);
      await waitFor('audit/1 held again', async () => (await rows())[1].held);
      expect((await rows())[1].leo).toBe('8');
      expect(await nodeReportAt()).toBe(third);
    } finally {
      await db.query(`DELETE FROM replication.replica_progress WHERE node_id = 'n4'`);
      await db.end();
    }
  });

  it('refuses malformed and forged reports and changes nothing', async () => {
    const before = summary(await list());
    const valid = { nodeId: 'n1', replicas: [pos('orders', 0, 'LEADER', 5)] };
    expect(await refusalOf('n2', JSON.stringify(valid))).toBe('FORBIDDEN');
    const malformed = [
      '{}',
      '[]',
      'null',
      JSON.stringify({ ...valid, extra: 1 }),
      JSON.stringify({ nodeId: 'n1', replicas: [{ ...valid.replicas[0], role: 'KING' }] }),
      JSON.stringify({ nodeId: 'n1', replicas: [{ ...valid.replicas[0], partition: -1 }] }),
      JSON.stringify({ nodeId: 'n1', replicas: [{ ...valid.replicas[0], logEndOffset: 1.5 }] }),
      JSON.stringify({ nodeId: 'n1', replicas: [{ ...valid.replicas[0], logEndOffset: 2 ** 60 }] }),
      JSON.stringify({
        nodeId: 'n1',
        replicas: [{ ...valid.replicas[0], leaderEpoch: '99999999999999999999' }],
      }),
      JSON.stringify({
        nodeId: 'n1',
        replicas: [{ ...valid.replicas[0], leaderEpoch: '9223372036854775808' }],
      }),
      JSON.stringify({
        nodeId: 'n1',
        replicas: [
          { ...valid.replicas[0], resource: "x'; DROP TABLE replication.replica_progress;--" },
        ],
      }),
      JSON.stringify({ nodeId: 'n1', replicas: [{ ...valid.replicas[0], extra: true }] }),
      JSON.stringify({ nodeId: 'n1', replicas: 'all' }),
    ];
    for (const data of malformed) expect(await refusalOf('n1', data)).toBe('INVALID');
    expect(await refusalOf('n1', 'not json')).toBe('INVALID_JSON');
    expect(summary(await list())).toEqual(before);
    const metrics = await (await http('/metrics')).text();
    const refused = metrics
      .split('\n')
      .find((l) => l.startsWith('tessera_replica_reports_total{result="refused"'));
    expect(Number(refused?.split(' ').pop())).toBeGreaterThanOrEqual(malformed.length + 1);
    expect(metrics).toMatch(/^tessera_replica_max_lag\{[^}]*\} 10$/m);
  });

  it('serves the same list over REST behind the admin token', async () => {
    expect((await http('/api/v1/replicas?resource=orders')).status).toBe(401);
    expect((await http('/api/v1/replicas?resource=orders', 'wrong-token-123')).status).toBe(403);
    const ok = await http('/api/v1/replicas?resource=orders', ADMIN_TOKEN);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ replicas: await list('orders') });
    const bad = await http('/api/v1/replicas?resource=bad.name', ADMIN_TOKEN);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: 400, code: 'INVALID' });
    expect((await http('/api/v1/replicas?other=1', ADMIN_TOKEN)).status).toBe(400);
  });

  it("drops a deleted resource's progress once, whatever the redeliveries", async () => {
    const deleteOrders = {
      eventId: randomUUID(),
      at: new Date().toISOString(),
      reason: 'DELETE',
      changes: [],
      deletedResource: 'orders',
    };
    await network.publishEvent(
      Subjects.events.partitionsChanged,
      deleteOrders,
      deleteOrders.eventId,
    );
    await waitFor('orders gone', async () => (await list('orders')).length === 0);
    expect((await list()).map((r) => r.resource)).toEqual(['users']);

    // orders is re-created and reported; the same event delivered again (another stream message)
    // must not drop it a second time. The consumer handles events in order, so once a later
    // event has taken effect the redelivery has been handled too.
    report('n1', [pos('orders', 0, 'LEADER', 1)]);
    await waitFor('orders reported again', async () => (await list('orders')).length === 1);
    await nc
      .jetstream()
      .publish(subject(Subjects.events.partitionsChanged), JSON.stringify(deleteOrders), {
        msgID: randomUUID(),
      });
    const deleteUsers = { ...deleteOrders, eventId: randomUUID(), deletedResource: 'users' };
    await network.publishEvent(Subjects.events.partitionsChanged, deleteUsers, deleteUsers.eventId);
    await waitFor('users gone', async () => (await list('users')).length === 0);
    expect(summary(await list())).toEqual(['orders/0@n1 LEADER leo=1 lag=0']);
  });
});
