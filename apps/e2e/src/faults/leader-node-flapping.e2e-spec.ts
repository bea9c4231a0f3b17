import { checkConvergence } from './checkers';
import { fleetUsage } from './process-usage';
import { type PartitionViewV1 } from '@tessera/contracts';
import { type ObservedEvent } from '../cluster';
import {
  describeProxiedFault,
  PROXIED_NODES,
  PROXIED_PARTITIONS,
  PROXIED_RESOURCE,
} from './proxied-fleet';

const FLAP_MS = 1_000;
const RUN_MS = 60_000;
/**
 * Every ISR whole within 30 s of the last flap, as after any healed fault (S7, S21): the longest
 * hold of a flapping replica (20 s, replication's DEFAULT_FLAP_POLICY) plus a catch-up.
 */
const CONVERGE_MS = 30_000;
/**
 * Damped (3 removals in a minute, then holds of 5, 10, 20 s) a replica leaves an ISR ~6
 * times in this run; undamped, 15 times.
 */
const MAX_ISR_EXITS = 8;
/** A socket leaked per reconnect would add ~30. */
const MAX_FD_GROWTH = 2;
/** ~1.5 MiB kept per reconnect would show; what GC timing moves is well under this. */
const MAX_RSS_GROWTH_MIB = 48;

/**
 * Each (partition, version) at which `nodeId` left the partition's ISR, from the ISRs of
 * `initial` on through the events.
 */
function isrExits(
  initial: readonly PartitionViewV1[],
  events: readonly ObservedEvent[],
  nodeId: string,
): string[] {
  const byVersion = [...new Map(events.map((e) => [String(e.body['eventId']), e])).values()].sort(
    (a, b) => Number(a.body['version']) - Number(b.body['version']),
  );
  const inIsr = new Map(initial.map((p) => [p.partition, p.isr.includes(nodeId)]));
  const exits: string[] = [];
  for (const e of byVersion) {
    const partition = Number(e.body['partition']);
    const now = (e.body['isr'] as string[]).includes(nodeId);
    if (inIsr.get(partition) === true && !now)
      exits.push(`p${partition}@v${String(e.body['version'])}`);
    inIsr.set(partition, now);
  }
  return exits;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RELIABILITY S10: the leader node's link to NATS flaps — cut for 1 s, up for 1 s — for 60 s,
 * under a client writing to every partition. Pass: the checkers clean; churn bounded (its
 * leaderships move once, and replication's flap damping keeps it from rejoining the ISRs after
 * every cut: undamped it left each ISR 15 times in 60 s); every ISR whole again once the link
 * holds; no process growing in memory or file descriptors with the ~30 reconnects.
 */
describeProxiedFault(
  'faults: a leader node flapping on and off NATS every 1 s for 60 s (S10)',
  's10',
  'leader-node-flapping',
  (suite) => {
    it(
      'S10: leaderships move once, ISR churn damped, whole again after the flapping, memory and descriptors stable',
      async () => {
        const { fleet, history } = suite;
        const { node, moved } = await fleet.topLeader();
        const initial = (await fleet.resource()).partitions;
        const proxy = suite.proxied.proxy(node);
        const before = fleetUsage(fleet.cluster);
        const startedAt = Date.now();
        let cycles = 0;
        while (Date.now() - startedAt < RUN_MS) {
          history.fault('isolate', node);
          proxy.isolate();
          await sleep(FLAP_MS);
          history.fault('heal', node);
          proxy.heal();
          await sleep(FLAP_MS);
          cycles++;
        }
        const healedAt = Date.now();
        const converged = await fleet.waitConverged(CONVERGE_MS, { since: healedAt });
        const after = fleetUsage(fleet.cluster);

        const events = fleet.events.leaderEvents(PROXIED_RESOURCE, startedAt);
        // Leader epochs granted per partition during the run (announcements may come twice).
        const epochs = initial.map(
          (p) =>
            new Set(
              events
                .filter((e) => e.body['partition'] === p.partition)
                .map((e) => Number(e.body['epoch']))
                .filter((epoch) => epoch > p.epoch),
            ).size,
        );
        const exits = isrExits(initial, events, node);
        const exitsPerPartition = initial.map(
          (p) => exits.filter((e) => e.startsWith(`p${p.partition}@`)).length,
        );
        const deaths = fleet.events
          .nodeStates(node, startedAt)
          .filter((e) => e.body['state'] === 'DEAD').length;
        const others = PROXIED_NODES.filter((n) => n.id !== node).flatMap((n) =>
          fleet.events.nodeStates(n.id, startedAt).map((e) => `${n.id} ${String(e.body['state'])}`),
        );
        console.log(
          `S10: ${node} led ${moved.length} of ${PROXIED_PARTITIONS}; ${cycles} flaps of ${FLAP_MS} ms: ` +
            `DEAD ${deaths} times; other nodes: ${others.join(', ') || 'no change'}; ` +
            `new leader epochs per partition ${epochs.join(' ')}; ` +
            `${node} left the ISRs ${exits.length} times (per partition ${exitsPerPartition.join(' ')}); ` +
            `every ISR whole ${converged.ms === null ? 'NOT' : `${converged.ms} ms`} after the last flap\n` +
            before
              .map(
                (b, i) =>
                  `${b.name} ${b.rssMiB}→${after[i].rssMiB} MiB, ${b.fds}→${after[i].fds} fds`,
              )
              .join('\n'),
        );

        expect(checkConvergence(history.entries, converged.spec)).toEqual([]);
        // Its leaderships moved once, at the first cut; no other partition changed leader.
        expect(epochs).toEqual(initial.map((p) => (p.leader === node ? 1 : 0)));
        expect(others).toEqual([]);
        // Not vacuous: the link really flapped, and the node was declared dead again and again.
        expect(deaths).toBeGreaterThan(cycles / 2);
        expect(Math.max(...exitsPerPartition)).toBeLessThanOrEqual(MAX_ISR_EXITS);
        for (const [i, b] of before.entries()) {
          expect({ name: b.name, fds: Math.min(after[i].fds, b.fds + MAX_FD_GROWTH) }).toEqual({
            name: b.name,
            fds: after[i].fds,
          });
          expect(after[i].rssMiB - b.rssMiB).toBeLessThanOrEqual(MAX_RSS_GROWTH_MIB);
        }
      },
      RUN_MS + CONVERGE_MS + 30_000,
    );
  },
);
