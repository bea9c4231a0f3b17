import { type LeaseStatus, type ServiceInstance } from '../cluster';
import { History } from './history';
import { SkewedClocks } from './skewed-clocks';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const SKEW_S = 30;
/** Each phase of skew lasts this long: many lease renewals, heartbeats and detector ticks. */
const PHASE_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How far an HTTP server's wall clock is from ours, in whole seconds (its `Date` header). */
async function clockOffsetS(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/health/live`);
  return Math.round((Date.parse(res.headers.get('date') ?? '') - Date.now()) / 1_000);
}

/**
 * RELIABILITY S15: wall clocks stepped ±30 s on a leader node and on both holders of each lease
 * (the active coordinator and recovery ahead while their standbys lag behind, then the other way
 * round), under a client writing to every partition. Leases are judged by Postgres's clock and
 * each holder's monotonic clock, liveness by health's monotonic clock, fencing by epochs: no
 * clock step may cost a leadership or a lease. Pass: no leader change, no node leaving ALIVE, the
 * same lease holders at the same terms, writes acknowledged throughout, the checkers clean.
 */
describe('faults: wall clocks stepped ±30 s on a leader node and the lease holders (S15)', () => {
  const history = new History('s15-clock-skew');
  const clocks = new SkewedClocks();
  let fleet: WrittenFleet;

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s15', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
      instances: { coordinator: 2, recovery: 2 },
      nodeEnv: (node) => clocks.env(node.id),
      instanceEnv: (id) => clocks.env(id),
    });
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
    clocks.close();
  }, 60_000);

  it('S15: no leadership, node state or lease changes hands while clocks jump ±30 s', async () => {
    const { cluster, writer } = fleet;
    const before = await fleet.resource();
    const { node: leader, moved } = await fleet.topLeader();
    const holders = new Map<string, { instance: ServiceInstance; status: LeaseStatus }>();
    for (const service of ['coordinator', 'recovery'] as const)
      holders.set(service, await cluster.waitForActive(service));
    const standbys = [...holders.values()].flatMap(({ instance }) =>
      cluster.instancesOf(instance.service).filter((i) => i !== instance),
    );
    expect(standbys).toHaveLength(2);

    // The leader's heartbeats carry its wall clock: how far ahead it is, as each one arrives.
    const offsets: number[] = [];
    const beats = fleet.nc.subscribe(
      `tessera.v1.${cluster.env.cluster}.health.node.heartbeat.${leader}`,
      {
        callback: (_err, msg) => {
          const { sentAt } = msg.json<{ sentAt: string }>();
          offsets.push(Math.round((Date.parse(sentAt) - Date.now()) / 1_000));
        },
      },
    );

    const startedAt = Date.now();
    const phases: {
      skew: number;
      from: number;
      acked: number[];
      leaderOffsets: number[];
      instanceOffsets: Record<string, number>;
    }[] = [];
    for (const skew of [SKEW_S, -SKEW_S]) {
      // The leader node and the active holders one way, the standbys the other.
      history.fault('skew', `${leader} ${skew} s`);
      clocks.set(leader, skew);
      for (const { instance } of holders.values()) clocks.set(instance.id, skew);
      for (const standby of standbys) clocks.set(standby.id, -skew);
      const from = Date.now();
      await sleep(PHASE_MS / 2); // libfaketime re-reads the offset within a second
      const seen = offsets.length;
      const instanceOffsets: Record<string, number> = {};
      for (const { instance } of [
        ...holders.values(),
        ...standbys.map((instance) => ({ instance })),
      ])
        instanceOffsets[instance.id] = await clockOffsetS(instance.port);
      await sleep(PHASE_MS / 2);
      phases.push({
        skew,
        from,
        acked: before.partitions.map((p) => writer.acked(p.partition, from)),
        leaderOffsets: [...new Set(offsets.slice(seen))],
        instanceOffsets,
      });
    }
    history.fault('heal', 'clocks');
    for (const name of [leader, ...[...holders.values()].map((h) => h.instance.id)])
      clocks.set(name, 0);
    for (const standby of standbys) clocks.set(standby.id, 0);
    await sleep(2_000);

    const after = await fleet.resource();
    console.log(
      `S15: ${leader} led ${moved.length} of ${PARTITIONS}; clocks ±${SKEW_S} s for ${PHASE_MS / 1_000} s each way on it and on ` +
        `${[...holders.values()].map((h) => `${h.instance.id} (term ${h.status.term})`).join(', ')}, ` +
        `the opposite on ${standbys.map((s) => s.id).join(', ')}; writes acked per phase: ` +
        phases
          .map(
            (p) =>
              `${p.skew > 0 ? '+' : ''}${p.skew} s: ${p.acked.join('/')} ` +
              `(clocks seen: ${leader} ${p.leaderOffsets.join('/')} s, ` +
              `${Object.entries(p.instanceOffsets)
                .map(([id, o]) => `${id} ${o} s`)
                .join(', ')})`,
          )
          .join('; '),
    );
    beats.unsubscribe();

    // Not vacuous: the clocks really were stepped (±1 s: whole-second Date headers).
    for (const phase of phases) {
      expect(phase.leaderOffsets.every((o) => Math.abs(o - phase.skew) <= 1)).toBe(true);
      expect(phase.leaderOffsets.length).toBeGreaterThan(0);
      for (const [service, { instance }] of holders)
        expect({
          service,
          off: Math.abs(phase.instanceOffsets[instance.id] - phase.skew) <= 1,
        }).toEqual({ service, off: true });
      for (const standby of standbys)
        expect(Math.abs(phase.instanceOffsets[standby.id] + phase.skew)).toBeLessThanOrEqual(1);
    }

    // No premature takeover anywhere: leaders, epochs, node states and lease terms unchanged.
    expect(after.partitions.map((p) => [p.partition, p.leader, p.epoch])).toEqual(
      before.partitions.map((p) => [p.partition, p.leader, p.epoch]),
    );
    for (const node of NODES) expect(fleet.events.nodeStates(node.id, startedAt)).toEqual([]);
    for (const [service, { instance, status }] of holders) {
      expect({ service, ...(await cluster.leaseStatus(instance.id)) }).toEqual({
        service,
        ...status,
      });
    }
    for (const standby of standbys)
      expect((await cluster.leaseStatus(standby.id)).active).toBe(false);
    // Not vacuous: the skewed leader kept acknowledging writes in both phases, as did the rest.
    for (const phase of phases) for (const acked of phase.acked) expect(acked).toBeGreaterThan(5);
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
  });
});
