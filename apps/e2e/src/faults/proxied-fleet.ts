import { TEST_NATS_URL } from '@tessera/testing';
import { CuttableProxy } from './cuttable-proxy';
import { type History } from './history';
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
    try {
      for (const node of options.nodes)
        proxies.set(node.id, await CuttableProxy.start(TEST_NATS_URL));
      const fleet = await WrittenFleet.start(prefix, history, {
        ...options,
        nodeEnv: (node) => ({ TESSERA_NATS_URL: proxies.get(node.id)?.url ?? TEST_NATS_URL }),
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
