import { Client } from 'pg';
import { waitFor } from '@tessera/testing';
import { type LeasedService, type LeaseStatus, type ServiceInstance } from '../cluster';
import { CuttableProxy } from './cuttable-proxy';
import { History } from './history';
import { fencedWrites, installWriteAudit } from './write-audit';
import { DETECTION_BOUND_MS, WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const INSTANCES = ['coordinator-a', 'coordinator-b', 'recovery-a', 'recovery-b'];
const CUT_MS = 15_000;
/** As S5: lease TTL (3 s) + a renewal period, within the scenario's 5 s. */
const TAKEOVER_MS = 5_000;
const CONVERGE_MS = 30_000;
const GRACE_MS = '3000';

interface Holder {
  instance: ServiceInstance;
  status: LeaseStatus;
}

/**
 * RELIABILITY S8: a leader that reaches NATS but not Postgres. Tessera's leaders that use
 * Postgres are the lease holders — the active coordinator and the active recovery — each reaching
 * Postgres here through a TCP proxy of its own. Both holders' proxies are cut at once for 15 s
 * (connections open, nothing getting through), while they stay on NATS. They must stop acting:
 * their standbys take over within 5 s at a higher term, the cut ones say they are standbys, the
 * control plane works under the new holders (a leader node killed meanwhile fails over and is
 * re-placed, a resource is created and deleted), no
 * write of an old term lands — also after the heal — and the checkers stay clean.
 */
describe('faults: the lease holders cut off from Postgres but not from NATS (S8)', () => {
  const history = new History('s8-singleton-postgres-cut');
  const proxies = new Map<string, CuttableProxy>();
  let fleet: WrittenFleet;
  let db: Client;

  beforeAll(async () => {
    const server =
      process.env['TESSERA_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/tessera';
    for (const id of INSTANCES) proxies.set(id, await CuttableProxy.start(server, 5432));
    fleet = await WrittenFleet.start('s8', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
      instances: { coordinator: 2, recovery: 2 },
      // The killed node's replicas are re-placed while the old holders are still cut off: work
      // of both singletons (recovery's operations, the coordinator's migration), fenced.
      env: { TESSERA_RECOVERY_GRACE_MS: GRACE_MS },
      instanceEnv: (id, databaseUrl): Record<string, string> => {
        const proxy = proxies.get(id);
        return proxy ? { TESSERA_DATABASE_URL: proxy.via(databaseUrl) } : {};
      },
    });
    db = new Client({ connectionString: fleet.cluster.env.databaseUrl });
    await db.connect();
    await installWriteAudit(db, ['coordinator', 'recovery']);
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await fleet?.close();
    for (const proxy of proxies.values()) await proxy.close();
  }, 60_000);

  it('S8: cut from Postgres, both lease holders stop acting; the standbys take over and run the control plane; no old-term write lands', async () => {
    const { cluster } = fleet;
    const services: LeasedService[] = ['coordinator', 'recovery'];
    const old = new Map<LeasedService, Holder>();
    for (const service of services) old.set(service, await cluster.waitForActive(service));

    const cutAt = history.fault('isolate', 'active coordinator and recovery → Postgres');
    for (const { instance } of old.values()) proxies.get(instance.id)!.isolate();

    // The standbys take over; the cut holders know they no longer hold the lease.
    const next = new Map<LeasedService, Holder>();
    for (const service of services) {
      const previous = old.get(service)!;
      const standby = cluster.instancesOf(service).find((i) => i !== previous.instance)!;
      const status = await waitFor(
        `${standby.id} active`,
        async () => {
          const s = await cluster.leaseStatus(standby.id).catch(() => undefined);
          return s?.active ? s : undefined;
        },
        { timeoutMs: TAKEOVER_MS + 10_000, intervalMs: 50 },
      ).catch(fleet.withLogs);
      next.set(service, { instance: standby, status });
      expect({ service, takeoverWithinBound: Date.now() - cutAt <= TAKEOVER_MS }).toEqual({
        service,
        takeoverWithinBound: true,
      });
      expect(BigInt(status.term!)).toBeGreaterThan(BigInt(previous.status.term!));
      expect(await cluster.leaseStatus(previous.instance.id, 5_000)).toEqual({
        instance: previous.instance.id,
        active: false,
        term: null,
      });
    }
    const takeoverMs = Date.now() - cutAt;

    // The control plane runs under the new holders while the old ones are still cut off.
    cluster.preferApi(next.get('coordinator')!.instance.id);
    const { node: victim } = await fleet.topLeader();
    const failover = await fleet.failover(victim, DETECTION_BOUND_MS + 10_000);
    // Singleton work only the active coordinator's reconciler does, fenced (as in S6): a
    // deletion left half-way.
    const probe = { name: 's8-probe', partitions: 2, replicationFactor: 3 };
    expect((await cluster.api('POST', '/resources', probe)).status).toBe(201);
    await db.query(`UPDATE coordinator.resource SET state = 'DELETING' WHERE name = $1`, [
      probe.name,
    ]);
    await waitFor(
      `${probe.name} deleted by the new coordinator`,
      async () =>
        (await db.query('SELECT 1 FROM coordinator.resource WHERE name = $1', [probe.name]))
          .rowCount === 0,
      { timeoutMs: 15_000 },
    ).catch(fleet.withLogs);

    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + CUT_MS - Date.now())));
    const healedAt = history.fault('heal', 'active coordinator and recovery → Postgres');
    for (const { instance } of old.values()) proxies.get(instance.id)!.heal();
    await fleet.restart(victim);
    const converged = await fleet.waitConverged(CONVERGE_MS, { since: healedAt });
    // Reconnected, the old holders stay standbys; the new ones keep their terms.
    for (const service of services) {
      const { instance } = old.get(service)!;
      expect(await cluster.leaseStatus(instance.id, 5_000)).toEqual({
        instance: instance.id,
        active: false,
        term: null,
      });
      expect(await cluster.leaseStatus(next.get(service)!.instance.id)).toEqual(
        next.get(service)!.status,
      );
    }

    // Every fenced write was the lease holder's of its moment: none of an old term landed, not
    // even after the heal; and the new holders did write (the audit sees them).
    const audit = (
      await db.query<{ schema_name: string; app: string; fenced: boolean; n: number }>(
        `SELECT schema_name, app, fenced, count(*)::int AS n FROM public.write_audit GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
    ).rows;
    for (const service of services) {
      const fenced = await fencedWrites(db, service);
      const { instance: was } = old.get(service)!;
      const { instance: now, status } = next.get(service)!;
      expect(fenced.filter((w) => w.app !== `tessera-${w.lease_holder}`)).toEqual([]);
      expect(
        fenced.filter(
          (w) => w.app === `tessera-${was.id}` && BigInt(w.lease_term ?? 0) >= BigInt(status.term!),
        ),
      ).toEqual([]);
      expect({
        service,
        audit,
        byNewHolder: fenced.some(
          (w) => w.app === `tessera-${now.id}` && w.lease_term === status.term,
        ),
      }).toEqual({ service, audit, byNewHolder: true });
    }
    console.log(
      `S8: ${[...old.values()].map((h) => h.instance.id).join(' and ')} cut from Postgres for ${CUT_MS / 1_000} s: ` +
        `${[...next.values()].map((h) => `${h.instance.id} active at term ${h.status.term}`).join(', ')} ` +
        `${takeoverMs} ms after the cut; ${victim} killed meanwhile, its ${failover.moved.length} partitions led elsewhere ` +
        `${failover.ms} ms later; RF whole ${converged.ms === null ? 'NOT' : `${converged.ms} ms`} after the heal`,
    );
    await fleet.expectClean([converged.spec]);
  }, 150_000);
});
