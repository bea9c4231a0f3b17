import { waitFor } from '@tessera/testing';
import { describeProxiedFault, PROXIED_PARTITIONS } from './proxied-fleet';
import { DETECTION_BOUND_MS } from './written-fleet';

const ISOLATION_MS = 20_000;
const CATCH_UP_MS = 30_000;

/**
 * RELIABILITY S7: a leader node cut off from NATS for 20 s, then healed. Every kv-node reaches
 * NATS through a proxy of its own; cutting the leader's drops everything either way while its
 * TCP connections stay open (heartbeat thread included). It must be DEAD within detection time,
 * its partitions led elsewhere within 1 s of that, nothing acknowledged at its old epoch, and
 * after the heal it is back, a follower, with every ISR whole again within 30 s.
 */
describeProxiedFault(
  'faults: a leader node isolated from NATS for 20 s, then healed (S7)',
  's7',
  'leader-node-isolation',
  (suite) => {
    it('S7: DEAD within detection, new leaders within 1 s of it, nothing acknowledged at the old epoch, back in sync within 30 s of the heal', async () => {
      const { fleet, withLogs } = suite;
      const cut = await suite.cutTopLeader('isolate', DETECTION_BOUND_MS);
      const { node: isolated, moved, at: isolatedAt, dead, grants } = cut;

      // The partition lasts its 20 s.
      await new Promise((r) => setTimeout(r, Math.max(0, isolatedAt + ISOLATION_MS - Date.now())));
      const healedAt = await suite.healAndRejoin(cut, CATCH_UP_MS);
      // Caught up: every partition led, and every replica (the healed node's included) in the ISR.
      const whole = await waitFor(
        'every ISR whole again',
        async () => {
          const r = await fleet.sample();
          return r.partitions.every((p) => p.leader !== null && p.isr.length === p.replicas.length)
            ? r
            : undefined;
        },
        { timeoutMs: Math.max(1_000, healedAt + CATCH_UP_MS - Date.now()), intervalMs: 250 },
      ).catch(withLogs);
      const caughtUpMs = Date.now() - healedAt;
      expect(whole.partitions.some((p) => p.isr.includes(isolated))).toBe(true);

      await suite.writesResumed(cut);
      const lastGrant = Math.max(...grants.map((g) => g.at));
      console.log(
        `S7: ${isolated} led ${moved.length} of ${PROXIED_PARTITIONS}; isolated ${ISOLATION_MS} ms: DEAD after ${dead.at - isolatedAt} ms, every new leader ${lastGrant - dead.at} ms after DEAD; every ISR whole ${caughtUpMs} ms after the heal`,
      );
    });
  },
);
