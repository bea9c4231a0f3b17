import { type PartitionViewV1 } from '@tessera/contracts';
import { TEST_NATS_URL, waitFor } from '@tessera/testing';
import { type ObservedEvent } from '../cluster';
import { CuttableProxy } from './cuttable-proxy';
import { History } from './history';
import { WrittenFleet, type WrittenFleetOptions } from './written-fleet';

/** A written fleet whose kv-nodes each reach NATS through a CuttableProxy of their own (S7, S9). */
export class ProxiedFleet {
  private constructor(
    readonly fleet: WrittenFleet,
    private readonly proxies: Map<string, CuttableProxy>,
  ) {}

  static async start(
    prefix: string,
    history: History,
    options: Omit<WrittenFleetOptions, 'nodeEnv'>,
  ): Promise<ProxiedFleet> {
    const proxies = new Map<string, CuttableProxy>();
    const natsUrl = options.natsUrl ?? TEST_NATS_URL;
    try {
      for (const node of options.nodes) proxies.set(node.id, await CuttableProxy.start(natsUrl));
      const fleet = await WrittenFleet.start(prefix, history, {
        ...options,
        nodeEnv: (node) => ({ TESSERA_NATS_URL: proxies.get(node.id)?.url ?? natsUrl }),
      });
      return new ProxiedFleet(fleet, proxies);
    } catch (error) {
      for (const proxy of proxies.values()) await proxy.close();
      throw error;
    }
  }

  /** The proxy between `nodeId` and NATS. */
  proxy(nodeId: string): CuttableProxy {
    const proxy = this.proxies.get(nodeId);
    if (!proxy) throw new Error(`no proxy for ${nodeId}`);
    return proxy;
  }

  async close(): Promise<void> {
    await this.fleet.close();
    for (const proxy of this.proxies.values()) await proxy.close();
  }
}

/** The fleet a proxied fault suite runs: four kv-nodes in four zones, 8 partitions written. */
export const PROXIED_NODES = [1, 2, 3, 4].map((i) => ({
  id: `kv-${i}`,
  zone: `z${i}`,
  rack: `r${i}`,
}));
export const PROXIED_RESOURCE = 'orders';
export const PROXIED_PARTITIONS = 8;

/** What a proxied fault suite's tests use; valid once the suite's beforeAll has run. */
export interface ProxiedSuite {
  readonly history: History;
  readonly proxied: ProxiedFleet;
  readonly fleet: WrittenFleet;
  /** Rethrows with the fleet's logs attached. */
  withLogs(error: unknown): never;
  /**
   * Cuts the proxy of the node leading most partitions (`isolate`: nothing passes; `deafen`:
   * only what NATS sends to it is dropped) and waits for its failover (WrittenFleet.failsOver).
   */
  cutTopLeader(how: 'isolate' | 'deafen', deadWithinMs: number): Promise<CutLeader>;
  /**
   * Heals the cut node's proxy and waits until it is ALIVE again and follows the partitions it
   * led; returns when the heal was (the history's clock).
   */
  healAndRejoin(cut: CutLeader, withinMs: number): Promise<number>;
  /**
   * The end of the written fleet's story: writes to every moved partition are acknowledged again,
   * then the writer stops, and nothing was acknowledged at the old epoch after DEAD.
   */
  writesResumed(cut: CutLeader): Promise<void>;
}

/** The leader a suite cut off: the partitions it led, when, and how they failed over. */
export interface CutLeader {
  node: string;
  moved: PartitionViewV1[];
  at: number;
  dead: ObservedEvent;
  grants: ObservedEvent[];
}

/**
 * A fault suite on a ProxiedFleet (S7, S9): starts the fleet before its tests, closes it after,
 * and ends with the checkers (C1–C5) over the whole run. `id` names the cluster ("s7"), `name`
 * the history file (`${id}-${name}`).
 */
export function describeProxiedFault(
  title: string,
  id: string,
  name: string,
  tests: (suite: ProxiedSuite) => void,
): void {
  describe(title, () => {
    let started: ProxiedFleet | undefined;
    const suite: ProxiedSuite = {
      history: new History(`${id}-${name}`),
      get proxied(): ProxiedFleet {
        if (!started) throw new Error(`the ${id} fleet did not start`);
        return started;
      },
      get fleet(): WrittenFleet {
        return suite.proxied.fleet;
      },
      withLogs: (error) => suite.fleet.withLogs(error),
      async cutTopLeader(how, deadWithinMs) {
        const { node, moved } = await suite.fleet.topLeader();
        expect(moved.length).toBeGreaterThan(0);
        const at = suite.history.fault('isolate', node);
        suite.proxied.proxy(node)[how]();
        const { dead, grants } = await suite.fleet.failsOver(node, moved, at, deadWithinMs);
        return { node, moved, at, dead, grants };
      },
      async healAndRejoin(cut, withinMs) {
        const healedAt = suite.history.fault('heal', cut.node);
        suite.proxied.proxy(cut.node).heal();
        await suite.fleet.nodeStateEvent(cut.node, 'ALIVE', healedAt, withinMs);
        await suite.fleet.steppedDown(cut.node, cut.moved, healedAt, withinMs);
        return healedAt;
      },
      async writesResumed(cut) {
        const { writer } = suite.fleet;
        const since = Date.now();
        await waitFor('writes acknowledged again', () =>
          cut.moved.every((p) => writer.acked(p.partition, since) > 0),
        ).catch(suite.withLogs);
        await writer.stop();
        expect(suite.fleet.staleAcks(cut.moved, cut.dead.at)).toEqual([]);
      },
    };

    beforeAll(async () => {
      started = await ProxiedFleet.start(id, suite.history, {
        nodes: PROXIED_NODES,
        resource: PROXIED_RESOURCE,
        partitions: PROXIED_PARTITIONS,
      });
    }, 120_000);

    afterAll(() => started?.close(), 60_000);

    tests(suite);

    it('keeps every checker clean over the whole run (C1–C5)', async () => {
      await suite.fleet.expectClean();
      expect(suite.history.of('ok').length).toBeGreaterThan(100);
      expect(suite.history.of('grant').length).toBeGreaterThan(PROXIED_PARTITIONS);
    });
  });
}
