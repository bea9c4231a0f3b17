import { type ConvergenceSpec } from './checkers';
import { History } from './history';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4, 5].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'ledger';
const PARTITIONS = 20;
const ROUNDS = 3;
/** C6: every partition led with its full replication factor in sync this long after a restart. */
const CONVERGE_MS = 60_000;

interface Round {
  round: number;
  victim: string;
  led: number;
  failoverMs: number;
  convergedMs: number | null;
  acked: number;
}

/**
 * Durability under repeated leader crashes: three times, the node leading the most partitions is
 * SIGKILLed while a client writes unique values to every partition, and restarted with the same
 * id and data directory once its partitions failed over. Every acknowledged write must survive
 * all three crashes (C1–C5), and each restart must end with every partition fully in sync (C6).
 */
describe('durability: kv-node leaders killed and restarted, three rounds', () => {
  const history = new History('durability-leader-kills');
  let fleet: WrittenFleet;
  const rounds: Round[] = [];

  beforeAll(async () => {
    fleet = await WrittenFleet.start('dur', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it('keeps every acknowledged write, one leader per epoch, and regains full RF after each restart', async () => {
    let roundStart = Date.now();
    const convergence: ConvergenceSpec[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { node: victim, leads } = await fleet.topLeader();
      const failover = await fleet.failover(victim);
      // Leadership moved to a replica that was in sync, at the next epoch.
      for (const p of failover.moved) {
        const now = failover.after.partitions[p.partition];
        expect({
          partition: p.partition,
          epoch: now.epoch,
          inIsr: p.isr.includes(now.leader ?? ''),
        }).toEqual({
          partition: p.partition,
          epoch: p.epoch + 1,
          inIsr: true,
        });
      }
      const restartedAt = await fleet.restart(victim);
      // Rejoined: back in the ISR of every partition it holds, so the next round starts whole.
      const converged = await fleet.waitConverged(CONVERGE_MS, { since: restartedAt });
      const now = Date.now();
      rounds.push({
        round,
        victim,
        led: leads,
        failoverMs: failover.ms,
        convergedMs: converged.ms,
        acked: fleet.writer.acked(undefined, roundStart) - fleet.writer.acked(undefined, now),
      });
      roundStart = now;
      convergence.push(converged.spec);
      if (converged.ms === null) break; // C6 below names what is stuck
    }
    console.log(
      `durability: ${PARTITIONS} partitions RF 3 on ${NODES.length} nodes\n` +
        rounds
          .map(
            (r) =>
              `round ${r.round}: killed ${r.victim} (led ${r.led}), failed over in ${r.failoverMs} ms, ` +
              `RF restored ${r.convergedMs === null ? 'NOT' : `in ${r.convergedMs} ms`} after the restart, ${r.acked} writes acked`,
          )
          .join('\n'),
    );

    // C6 after every restart (the last one included), C1–C5 over the whole run.
    await fleet.expectClean(convergence);
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    // Not vacuous: writes were acknowledged in every round and each read back.
    for (const r of rounds)
      expect({ round: r.round, acked: r.acked > 0 }).toEqual({ round: r.round, acked: true });
    expect(history.of('read').length).toBe(history.of('invoke').length);
    expect(history.of('grant').length).toBeGreaterThan(PARTITIONS);
  }, 170_000);
});
