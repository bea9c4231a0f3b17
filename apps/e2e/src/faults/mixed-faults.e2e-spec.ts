import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LeasedService } from '../cluster';
import { type FaultKind, LIGHT_FAULT_KINDS, planFaults, type PlannedFault } from './fault-plan';
import { History } from './history';
import { fleetUsage, type ProcessUsage } from './process-usage';
import { OwnNatsServer } from './own-servers';
import { PROXIED_NODES, PROXIED_PARTITIONS, PROXIED_RESOURCE, ProxiedFleet } from './proxied-fleet';

/**
 * RELIABILITY S21 by default: 120 s of mixed faults. With TESSERA_MIXED_FAULTS_MS=1800000 and
 * TESSERA_MIXED_FAULTS_LIGHT=1 it is S24's 30-minute soak with light faults (`npm run
 * soak:faults`, not in CI). TESSERA_MIXED_FAULTS_SEED replays a run.
 */
const RUN_MS = Number(process.env['TESSERA_MIXED_FAULTS_MS'] ?? 120_000);
const LIGHT = process.env['TESSERA_MIXED_FAULTS_LIGHT'] === '1';
const SEED = Number(process.env['TESSERA_MIXED_FAULTS_SEED'] ?? 21);
const SCENARIO = LIGHT ? 'S24' : 'S21';
const CONVERGE_MS = 30_000;
/** A socket or file leaked per fault would add one per fault (dozens). */
const MAX_FD_GROWTH = 5;
/** Memory kept per fault would show over the run; what GC timing moves is well under this. */
const MAX_RSS_GROWTH_MIB = 64;
/** Subscriptions come back with every reconnect and restart; a leak would grow with the faults. */
const MAX_SUBSCRIPTION_GROWTH = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server's subscriptions at rest: the fewest over 5 s (a request in flight or a consumer's
 * pull holds one for a moment; a leak stays).
 */
async function restingSubscriptions(nats: OwnNatsServer): Promise<number> {
  let fewest = Infinity;
  for (let i = 0; i < 5; i++) {
    fewest = Math.min(fewest, await nats.subscriptions());
    await sleep(1_000);
  }
  return fewest;
}

/**
 * Faults one at a time from a seeded plan (fault-plan.ts): kv-nodes SIGKILLed and restarted,
 * frozen, cut off from NATS or deafened; the active coordinator or recovery SIGKILLed (a standby
 * takes over) and restarted; the NATS server SIGKILLed and restarted 3 s later. Two instances of
 * each leased service, every kv-node on NATS through a proxy of its own, a NATS server of the
 * suite's own. Pass: the checkers clean, converged (every partition led with RF 3 in sync)
 * within 30 s of the last heal, and processes, file descriptors and NATS subscriptions no bigger
 * after the run than before it.
 */
describe(`faults: mixed, one at a time, for ${RUN_MS / 1_000} s (${SCENARIO})`, () => {
  const history = new History(`${SCENARIO.toLowerCase()}-mixed-faults`);
  let nats: OwnNatsServer;
  let proxied: ProxiedFleet;

  beforeAll(async () => {
    nats = await OwnNatsServer.start({ monitor: true });
    proxied = await ProxiedFleet.start(SCENARIO.toLowerCase(), history, {
      nodes: PROXIED_NODES,
      resource: PROXIED_RESOURCE,
      partitions: PROXIED_PARTITIONS,
      instances: { coordinator: 2, recovery: 2 },
      natsUrl: nats.url,
    });
  }, 120_000);

  afterAll(async () => {
    await proxied?.close();
    await nats?.stop();
  }, 60_000);

  /** Starts one fault; returns how to heal it. */
  async function inject(fault: PlannedFault): Promise<() => Promise<void>> {
    const { cluster } = proxied.fleet;
    const node = PROXIED_NODES[fault.node].id;
    const leased = async (service: LeasedService) => {
      const { instance } = await cluster.waitForActive(service, 20_000);
      history.fault('SIGKILL', instance.id);
      await cluster.kill(instance.id);
      return async () => {
        history.fault('restart', instance.id);
        cluster.startInstance(service, instance.id);
      };
    };
    switch (fault.kind) {
      case 'kill-node':
        history.fault('SIGKILL', node);
        await cluster.kill(node);
        return async () => {
          history.fault('restart', node);
          cluster.restartNode(node);
        };
      case 'pause-node':
        history.fault('SIGSTOP', node);
        cluster.pause(node);
        return async () => {
          history.fault('SIGCONT', node);
          cluster.resume(node);
        };
      case 'isolate-node':
      case 'deafen-node':
        history.fault('isolate', fault.kind === 'isolate-node' ? node : `${node} (deaf)`);
        proxied.proxy(node)[fault.kind === 'isolate-node' ? 'isolate' : 'deafen']();
        return async () => {
          history.fault('heal', node);
          proxied.proxy(node).heal();
        };
      case 'kill-coordinator':
        return leased('coordinator');
      case 'kill-recovery':
        return leased('recovery');
      case 'restart-nats':
        history.fault('SIGKILL', 'nats-server');
        nats.kill();
        return async () => {
          history.fault('restart', 'nats-server');
          await nats.restart();
        };
    }
  }

  it(
    `${SCENARIO}: clean, converged within 30 s of the last heal, no process, descriptor or subscription growing`,
    async () => {
      const { fleet } = proxied;
      const plan = planFaults({
        seed: SEED,
        durationMs: RUN_MS,
        nodes: PROXIED_NODES.length,
        ...(LIGHT ? { kinds: LIGHT_FAULT_KINDS, gapMs: { min: 10_000, max: 30_000 } } : {}),
      });
      const before = {
        usage: fleetUsage(fleet.cluster),
        subscriptions: await restingSubscriptions(nats),
        byClient: await nats.subscriptionsByClient(),
      };
      const startedAt = Date.now();
      const done = new Map<FaultKind, number>();
      const samples: { t: number; usage: ProcessUsage[]; subscriptions: number }[] = [];
      for (const fault of plan) {
        const heal = await inject(fault);
        await sleep(fault.forMs);
        await heal();
        done.set(fault.kind, (done.get(fault.kind) ?? 0) + 1);
        await sleep(fault.gapMs);
        samples.push({
          t: Date.now() - startedAt,
          usage: fleetUsage(fleet.cluster),
          subscriptions: await nats.subscriptions().catch(() => -1),
        });
      }
      const healedAt = Date.now();
      const converged = await fleet.waitConverged(CONVERGE_MS, { since: healedAt });
      // Reconnects and restarts settle before the resources are counted again.
      await sleep(5_000);
      const after = {
        usage: fleetUsage(fleet.cluster),
        subscriptions: await restingSubscriptions(nats),
        byClient: await nats.subscriptionsByClient(),
      };
      // Which connection holds more subscriptions than before, and on what (for a leak's hunt).
      const grewOn = [...after.byClient].flatMap(([client, subjects]) => {
        const had = before.byClient.get(client) ?? [];
        if (subjects.length <= had.length) return [];
        const extra = new Map<string, number>();
        for (const s of subjects) extra.set(s, (extra.get(s) ?? 0) + 1);
        for (const s of had) extra.set(s, (extra.get(s) ?? 0) - 1);
        const more = [...extra].filter(([, n]) => n > 0).map(([s, n]) => `${s} ×${n}`);
        return [`${client}: ${had.length} → ${subjects.length} (${more.slice(0, 5).join(', ')})`];
      });

      const growth = before.usage.map((b) => {
        const a = after.usage.find((u) => u.name === b.name)!;
        return { name: b.name, rssMiB: a.rssMiB - b.rssMiB, fds: a.fds - b.fds };
      });
      console.log(
        `${SCENARIO}: seed ${SEED}, ${plan.length} faults in ${Math.round((healedAt - startedAt) / 1_000)} s ` +
          `(${[...done].map(([k, n]) => `${k} ×${n}`).join(', ')}); ` +
          `converged ${converged.ms === null ? 'NOT' : `${converged.ms} ms`} after the last heal; ` +
          `${fleet.writer.acked(undefined, startedAt)} writes acked meanwhile; ` +
          `NATS subscriptions ${before.subscriptions} → ${after.subscriptions}` +
          `${grewOn.length ? ` (grew on ${grewOn.join('; ')})` : ''}\n` +
          growth.map((g) => `${g.name}: ${g.rssMiB.toFixed(1)} MiB, ${g.fds} fds`).join('\n'),
      );
      const dir = join(__dirname, '../../../../tmp/test-results/faults');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `${SCENARIO.toLowerCase()}-resources.json`),
        JSON.stringify(
          {
            seed: SEED,
            plan,
            before: { ...before, byClient: Object.fromEntries(before.byClient) },
            after: { ...after, byClient: Object.fromEntries(after.byClient) },
            samples,
          },
          null,
          2,
        ),
      );

      await fleet.expectClean([converged.spec]);
      expect({
        growth: after.subscriptions - before.subscriptions <= MAX_SUBSCRIPTION_GROWTH,
        grewOn,
      }).toMatchObject({ growth: true });
      for (const g of growth) {
        expect({ name: g.name, fdsWithinBound: g.fds <= MAX_FD_GROWTH }).toEqual({
          name: g.name,
          fdsWithinBound: true,
        });
        expect({ name: g.name, rssWithinBound: g.rssMiB <= MAX_RSS_GROWTH_MIB }).toEqual({
          name: g.name,
          rssWithinBound: true,
        });
      }
      // Not vacuous: writes went on, and the faults did move leaderships.
      expect(fleet.writer.acked(undefined, startedAt)).toBeGreaterThan(100);
      expect(history.of('grant').filter((g) => g.t >= startedAt).length).toBeGreaterThan(0);
    },
    RUN_MS + CONVERGE_MS + 120_000,
  );
});
