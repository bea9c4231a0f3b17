import { Client } from 'pg';
import { type MapViewV1, type NodeViewV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { type EventLog, TestCluster } from '../cluster';
import { checkLeaderGrants } from './checkers';
import { History } from './history';
import { ControlPlaneRecorder } from './recorder';
import { fencedWrites, installWriteAudit } from './write-audit';

const NODES = [1, 2, 3].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const PAUSE_MS = 15_000;

/**
 * RELIABILITY S5 (kill -9 the active coordinator: the standby takes over ≤ 5 s with a higher
 * term) and S6 (SIGSTOP it 15 s, then SIGCONT: the old term's writes are rejected), with two
 * coordinators and two recovery instances.
 */
describe('faults: the active coordinator killed (S5) and frozen (S6)', () => {
  let cluster: TestCluster;
  let events: EventLog;
  let recorder: ControlPlaneRecorder;
  let db: Client;
  const history = new History('s5-s6-controller-failover');

  const withLogs = (error: unknown): never => {
    throw new Error(`${String(error)}\n${cluster.logs()}`);
  };
  const createLed = async (name: string, partitions: number) => {
    expect(
      (await cluster.api('POST', '/resources', { name, partitions, replicationFactor: 3 })).status,
    ).toBe(201);
    await waitFor(
      `${name} led`,
      async () => {
        const r = (await cluster.api<MapViewV1>('GET', '/map')).body.resources.find(
          (x) => x.name === name,
        );
        return (
          r !== undefined &&
          r.partitions.length === partitions &&
          r.partitions.every((p) => p.leader !== null)
        );
      },
      { timeoutMs: 20_000 },
    ).catch(async (error: unknown) => {
      const r = (await cluster.api<MapViewV1>('GET', '/map')).body.resources.find(
        (x) => x.name === name,
      );
      const rows = (await db.query('SELECT * FROM coordinator.resource WHERE name = $1', [name]))
        .rows;
      withLogs(new Error(`${String(error)}: ${JSON.stringify(r)} ${JSON.stringify(rows)}`));
    });
  };
  const resourceRow = async (name: string) =>
    (await db.query('SELECT state FROM coordinator.resource WHERE name = $1', [name])).rows[0] as
      { state: string } | undefined;

  beforeAll(async () => {
    cluster = await TestCluster.start('s5', {
      nodes: NODES,
      instances: { coordinator: 2, recovery: 2 },
    });
    events = await cluster.collectEvents();
    recorder = await ControlPlaneRecorder.start(
      cluster.env.natsUrl,
      cluster.env.cluster,
      history,
      events,
    );
    db = new Client({ connectionString: cluster.env.databaseUrl });
    await db.connect();
    await installWriteAudit(db);
    await waitFor(
      'three ALIVE nodes',
      async () => {
        const nodes = (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
        return nodes.length === NODES.length && nodes.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 30_000 },
    ).catch(withLogs);
    await createLed('orders', 6);
  }, 120_000);

  afterAll(async () => {
    await recorder?.close();
    await db?.end();
    if (history.entries.length > 0) history.save();
    await cluster?.stop();
  }, 60_000);

  it('S5: killed, the active coordinator is replaced by the standby within 5 s, with a higher term', async () => {
    const { instance: old, status: before } = await cluster.activeCoordinator();
    const standby = cluster.instancesOf('coordinator').find((i) => i !== old)!;
    expect(await cluster.leaseStatus(standby.id)).toEqual({
      instance: standby.id,
      active: false,
      term: null,
    });

    const killedAt = history.fault('SIGKILL', old.id);
    await cluster.kill(old.id);
    const { instance: next, status: after } = await cluster
      .waitForActive('coordinator', 15_000)
      .catch(withLogs);
    const takeoverMs = Date.now() - killedAt;
    expect(next.id).toBe(standby.id);
    expect(BigInt(after.term!)).toBeGreaterThan(BigInt(before.term!));
    // S5's pass criterion. Expected ≈ lease TTL (3 s) + one renewal period (0.5 s); the 5 s bound
    // is the scenario's own, asserted as is: missing it is the failure S5 exists to catch.
    expect(takeoverMs).toBeLessThanOrEqual(5_000);

    // The new active coordinator runs the control plane: a resource created now gets leaders.
    await createLed('after-s5', 4);
    // The killed instance comes back as a standby: the lease stays with its holder.
    cluster.startInstance('coordinator', old.id);
    await cluster.waitReady();
    expect(await cluster.leaseStatus(old.id)).toEqual({
      instance: old.id,
      active: false,
      term: null,
    });
    expect(await cluster.leaseStatus(next.id)).toEqual({
      instance: next.id,
      active: true,
      term: after.term,
    });
  });

  it('S6: frozen 15 s, the active coordinator is replaced; resumed, it is a standby and no write of its term lands', async () => {
    await createLed('doomed-1', 2);
    await createLed('doomed-2', 2);
    const { instance: old, status: before } = await cluster.activeCoordinator();
    const standby = cluster.instancesOf('coordinator').find((i) => i !== old)!;

    const pausedAt = history.fault('SIGSTOP', old.id);
    cluster.pause(old.id);
    const { instance: next, status: during } = await cluster
      .waitForActive('coordinator', PAUSE_MS - 2_000)
      .catch(withLogs);
    expect(next.id).toBe(standby.id);
    expect(BigInt(during.term!)).toBeGreaterThan(BigInt(before.term!));
    // Singleton work while the old holder is frozen: a deletion left half-way, which only the
    // active coordinator's reconciler finishes (its writes fenced on the controller term).
    await db.query(`UPDATE coordinator.resource SET state = 'DELETING' WHERE name = 'doomed-1'`);
    await waitFor(
      'doomed-1 deleted by the new holder',
      async () => (await resourceRow('doomed-1')) === undefined,
      { timeoutMs: 10_000 },
    ).catch(withLogs);
    // The fault is a 15 s freeze: wait out the rest of it (the scenario's own duration).
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + PAUSE_MS - Date.now())));

    history.fault('SIGCONT', old.id);
    cluster.resume(old.id);
    expect(await cluster.leaseStatus(old.id, 5_000)).toEqual({
      instance: old.id,
      active: false,
      term: null,
    });
    // Reconciler work again, now that the old holder runs: only the holder does it.
    await db.query(`UPDATE coordinator.resource SET state = 'DELETING' WHERE name = 'doomed-2'`);
    await waitFor('doomed-2 deleted', async () => (await resourceRow('doomed-2')) === undefined, {
      timeoutMs: 10_000,
    }).catch(withLogs);
    expect(await cluster.leaseStatus(old.id)).toEqual({
      instance: old.id,
      active: false,
      term: null,
    });
    expect(await cluster.leaseStatus(next.id)).toEqual({
      instance: next.id,
      active: true,
      term: during.term,
    });
    const lease = (
      await db.query(
        `SELECT holder, term::text AS term FROM coordinator.lease WHERE role = 'active-coordinator'`,
      )
    ).rows[0] as {
      holder: string;
      term: string;
    };
    expect(lease).toEqual({ holder: next.id, term: during.term });

    // Every fenced write was made by the lease holder of that moment; none of the old term landed
    // after the takeover, and the new holder's did (the check is not vacuous).
    const fenced = await fencedWrites(db, 'coordinator');
    const byNonHolder = fenced.filter((w) => w.app !== `tessera-${w.lease_holder}`);
    expect(byNonHolder).toEqual([]);
    const oldTermAfterTakeover = fenced.filter(
      (w) => w.app === `tessera-${old.id}` && BigInt(w.lease_term ?? 0) >= BigInt(during.term!),
    );
    expect(oldTermAfterTakeover).toEqual([]);
    expect(
      fenced.filter(
        (w) =>
          w.app === `tessera-${next.id}` &&
          w.lease_term === during.term &&
          w.tbl === 'resource' &&
          w.op === 'DELETE',
      ),
    ).toHaveLength(2);
    // The audit sees both instances (application names work), so its silence about the old one means something.
    const apps = (
      await db.query<{ app: string }>(`SELECT DISTINCT app FROM public.write_audit`)
    ).rows.map((r) => r.app);
    expect(apps).toEqual(expect.arrayContaining([`tessera-${old.id}`, `tessera-${next.id}`]));
  });

  it('C4 over the whole run: at most one leader per (partition, epoch) in every grant seen', () => {
    expect(history.of('grant').length).toBeGreaterThan(0);
    expect(checkLeaderGrants(history.entries)).toEqual([]);
  });
});
