import fc from 'fast-check';
import { type MapViewV1, type NodeViewV1, type OperationV1, Subjects } from '@tessera/contracts';
import { History } from './history';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 4;
/** Generated payloads per handler (RELIABILITY S23 asks 10,000). */
const PER_HANDLER = Number(process.env['TESSERA_FUZZ_PER_HANDLER'] ?? 10_000);
const IN_FLIGHT = 200;

/**
 * Every request handler of the fleet, by subject. `reads` handlers change nothing even when a
 * generated payload happens to be a valid query, so an answer is allowed there; every other one
 * must refuse every payload.
 */
const HANDLERS: { subject: string; reads?: boolean }[] = [
  { subject: Subjects.coordinator.registerNode },
  { subject: Subjects.coordinator.replaceNode },
  { subject: Subjects.coordinator.getOperation, reads: true },
  { subject: Subjects.health.heartbeat('kv-1') },
  { subject: Subjects.health.listNodes, reads: true },
  { subject: Subjects.consensus.initializePartitions },
  { subject: Subjects.consensus.deletePartitions },
  { subject: Subjects.consensus.electLeaders },
  { subject: Subjects.consensus.queryPartitions, reads: true },
  { subject: Subjects.consensus.alterIsr },
  { subject: Subjects.consensus.reassignPartitions },
  { subject: Subjects.consensus.moveLeaders },
  { subject: Subjects.consensus.nodeRoles('kv-1'), reads: true },
  { subject: Subjects.replication.report('kv-1') },
  { subject: Subjects.replication.listReplicas, reads: true },
  { subject: Subjects.recovery.listOperations, reads: true },
  { subject: Subjects.recovery.updateOperation },
  { subject: Subjects.node.assignRoles('kv-1') },
  { subject: Subjects.replica.fetch('kv-1') },
  { subject: Subjects.kv.put(RESOURCE, 0) },
  { subject: Subjects.kv.get(RESOURCE, 0), reads: true },
];

/**
 * Malformed input of every kind: random JSON values (objects with random keys, arrays, numbers,
 * strings, null), objects that carry the contracts' own field names with values of random types,
 * and bytes that are not JSON at all.
 */
const FIELDS = [
  'nodeId',
  'zone',
  'rack',
  'capacity',
  'tags',
  'resource',
  'partition',
  'partitions',
  'replicas',
  'unavailable',
  'reason',
  'isr',
  'leader',
  'leaderEpoch',
  'partitionEpoch',
  'assignments',
  'incarnation',
  'seq',
  'key',
  'value',
  'fetchOffset',
  'followerId',
  'id',
  'graceMs',
  'limit',
];
const payloads = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .dictionary(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 })
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 64 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

/**
 * RELIABILITY S23 (generated malformed payloads): every handler of every service and of a data
 * node gets PER_HANDLER of them. Every one is refused with an error reply (no timeout, no crash);
 * afterwards the map, the nodes and the operations are as before, every process is up and ready,
 * and the client that kept writing throughout sees clean checkers.
 */
describe('faults: generated malformed payloads to every handler (S23)', () => {
  let fleet: WrittenFleet;
  const history = new History('s23-malformed-input');

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s23', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it(`refuses ${PER_HANDLER.toLocaleString('en')} malformed payloads per handler, and nothing changes or crashes`, async () => {
    const { cluster, nc } = fleet;
    const snapshot = async () => ({
      map: (await cluster.api<MapViewV1>('GET', '/map')).body,
      nodes: (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body.map((n) => [n.id, n.state]),
      operations: (await cluster.api<OperationV1[]>('GET', '/operations')).body.length,
    });
    const before = await snapshot();
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const outcomes: Record<string, { refused: number; answered: number; noReply: number }> = {};
    const samples = fc.sample(payloads, { numRuns: PER_HANDLER, seed: 23 });

    for (const { subject, reads } of HANDLERS) {
      const tally = { refused: 0, answered: 0, noReply: 0 };
      outcomes[subject] = tally;
      const full = `tessera.v1.${cluster.env.cluster}.${subject}`;
      for (let i = 0; i < samples.length; i += IN_FLIGHT) {
        await Promise.all(
          samples.slice(i, i + IN_FLIGHT).map(async (text) => {
            try {
              const reply = await nc.request(full, encoder.encode(text), { timeout: 5_000 });
              const body = JSON.parse(decoder.decode(reply.data)) as { ok?: unknown };
              if (body.ok === false) tally.refused++;
              else tally.answered++;
            } catch {
              tally.noReply++;
            }
          }),
        );
      }
      if (!reads)
        expect({ subject, ...tally }).toEqual({
          subject,
          refused: samples.length,
          answered: 0,
          noReply: 0,
        });
      else expect({ subject, noReply: tally.noReply }).toEqual({ subject, noReply: 0 });
    }

    // Nothing changed, every process is up and ready.
    expect(await snapshot()).toEqual(before);
    for (const proc of [...cluster.services.values(), ...cluster.nodes.values()])
      expect({ name: proc.name, exitCode: proc.child.exitCode }).toEqual({
        name: proc.name,
        exitCode: null,
      });
    await cluster.waitReady();
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(10);
  });
});
