import { HEARTBEAT_PING_INTERVAL_MS } from '@tessera/node-agent';
import { describeProxiedFault, PROXIED_PARTITIONS, PROXIED_RESOURCE } from './proxied-fleet';
import { DETECTION_BOUND_MS } from './written-fleet';

const FAULT_MS = 15_000;
/** The heartbeat thread gives up on a server that does not answer after 3 missed pongs. */
const DEAF_NOTICED_MS = 4 * HEARTBEAT_PING_INTERVAL_MS;

/**
 * RELIABILITY S9, asymmetric: a leader node whose messages still reach NATS (its heartbeats
 * included) but which receives nothing back — no puts, no acknowledgements. Its heartbeat thread
 * must notice that the server does not answer and fall silent, so the node is declared DEAD and
 * its partitions fail over, once each: no partition changes leader more than once during the
 * fault, nothing is acknowledged at the old epoch, and after the heal it is back in sync.
 */
describeProxiedFault(
  'faults: a leader node that sends but cannot receive, for 15 s (S9)',
  's9',
  'leader-node-deaf',
  (suite) => {
    it('S9: DEAD once it notices it hears nothing, one leader change per partition, nothing acknowledged at the old epoch, back in sync after the heal', async () => {
      const { fleet } = suite;
      const cut = await suite.cutTopLeader('deafen', DEAF_NOTICED_MS + DETECTION_BOUND_MS);
      const { node: deaf, moved, at: deafAt, dead, grants } = cut;

      await new Promise((r) => setTimeout(r, Math.max(0, deafAt + FAULT_MS - Date.now())));
      // During the fault: at most one new epoch per partition (the failover), none back and forth.
      const epochsDuring = new Map<number, Set<number>>();
      for (const e of fleet.events.leaderEvents(PROXIED_RESOURCE, deafAt)) {
        const partition = Number(e.body['partition']);
        const epochs = epochsDuring.get(partition) ?? new Set<number>();
        epochsDuring.set(partition, epochs.add(Number(e.body['epoch'])));
      }
      for (const epochs of epochsDuring.values()) expect(epochs.size).toBeLessThanOrEqual(1);

      const healedAt = await suite.healAndRejoin(cut, 30_000);
      const converged = await fleet.waitConverged(30_000, { since: healedAt });
      expect(converged.ms).not.toBeNull();
      await suite.writesResumed(cut);
      const lastGrant = Math.max(...grants.map((g) => g.at));
      console.log(
        `S9: ${deaf} led ${moved.length} of ${PROXIED_PARTITIONS}; deaf ${FAULT_MS} ms: DEAD after ${dead.at - deafAt} ms, every new leader ${lastGrant - dead.at} ms after DEAD; converged ${String(converged.ms)} ms after the heal`,
      );
    });
  },
);
