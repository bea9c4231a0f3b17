import { type MapViewV1, type NodeViewV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { History } from './history';
import { OwnPostgres } from './own-servers';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
/** The controller lease (3 s) plus the 5 s RELIABILITY S13 allows. */
const RESUME_WITHIN_MS = 8_000;

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

    await fleet.cluster
      .waitReady({ timeoutMs: RESUME_WITHIN_MS, intervalMs: 100 })
      .catch(fleet.withLogs);
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
    // kv writes never touch Postgres; this does: placement, the elections and the map projection.
    await waitFor('the new resource led after the restart', async () => {
      const map = (await fleet.cluster.api<MapViewV1>('GET', '/map')).body;
      const r = map.resources.find((x) => x.name === 'after');
      return (
        r !== undefined && r.partitions.length === 2 && r.partitions.every((p) => p.leader !== null)
      );
    }).catch(fleet.withLogs);
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
