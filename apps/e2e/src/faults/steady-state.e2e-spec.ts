import { type NodeViewV1 } from '@tessera/contracts';
import { History } from './history';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
/** RELIABILITY S1 runs 120 s; TESSERA_S1_MS shortens it for a local look. */
const RUN_MS = Number(process.env['TESSERA_S1_MS'] ?? 120_000);

/**
 * RELIABILITY S1: no fault at all for 120 s, under a client writing to every partition. Nothing
 * may move: no leader change, no node leaving ALIVE, every ISR whole throughout, and the
 * checkers clean.
 */
describe('faults: none, under writes (S1)', () => {
  let fleet: WrittenFleet;
  const history = new History('s1-steady-state');

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s1', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it(
    `S1: ${RUN_MS / 1_000} s without a fault change no leader, no node state and no ISR`,
    async () => {
      const before = await fleet.sample();
      const startedAt = Date.now();
      const shrunk: string[] = [];
      while (Date.now() - startedAt < RUN_MS) {
        await new Promise((r) => setTimeout(r, 2_000));
        const now = await fleet.sample();
        for (const p of now.partitions)
          if (p.isr.length < p.replicas.length)
            shrunk.push(`${p.partition}: isr ${p.isr.join(',')} at +${Date.now() - startedAt} ms`);
      }
      const after = await fleet.sample();

      expect(after.partitions.map((p) => [p.partition, p.leader, p.epoch])).toEqual(
        before.partitions.map((p) => [p.partition, p.leader, p.epoch]),
      );
      expect(history.of('grant').filter((g) => g.t >= startedAt)).toEqual([]);
      expect(shrunk).toEqual([]);
      for (const node of NODES) expect(fleet.events.nodeStates(node.id, startedAt)).toEqual([]);
      const nodes = (await fleet.cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
      expect(nodes.map((n) => [n.id, n.state])).toEqual(NODES.map((n) => [n.id, 'ALIVE']));
      // Not vacuous: the client kept writing to every partition.
      for (let p = 0; p < PARTITIONS; p++)
        expect(fleet.writer.acked(p, startedAt)).toBeGreaterThan(10);
    },
    RUN_MS + 60_000,
  );

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
  });
});
