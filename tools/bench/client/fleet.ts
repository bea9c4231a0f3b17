/**
 * The real fleet for the propagation benchmark (the e2e harness: built apps as processes, own
 * database and cluster) and the leader changes the rounds trigger in it.
 */
import {
  type MapResourceV1,
  type MapViewV1,
  type NodeAdminReplyV1,
  type NodeViewV1,
  type OperationV1,
} from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { type KvNodeSpec, TestCluster } from '../../../apps/e2e/src/cluster';

export const NODES: KvNodeSpec[] = [
  { id: 'kv-1', zone: 'z1', rack: 'r1' },
  { id: 'kv-2', zone: 'z2', rack: 'r2' },
  { id: 'kv-3', zone: 'z3', rack: 'r3' },
];

export const RESOURCE = 'bench';
/** RF 2 on 3 nodes: a drained node's replicas have somewhere to go. */
export const REPLICATION_FACTOR = 2;

/** A round: what changes leaders, e.g. draining kv-1 then returning it, or SIGKILL + restart. */
export type Round = { kind: 'drain'; node: string } | { kind: 'kill' };

export function roundName(round: Round, victim?: string): string {
  return round.kind === 'drain'
    ? `drain + undrain ${round.node}`
    : `SIGKILL ${victim ?? 'top leader'} + restart`;
}

export class BenchFleet {
  private constructor(readonly cluster: TestCluster) {}

  static async start(partitions: number): Promise<BenchFleet> {
    const cluster = await TestCluster.start('benchclient', {
      nodes: NODES,
      env: {
        // 100 clients on one machine share one IP; apart they would each have their own, so the
        // per-IP admin API throttle (6,000/min) is lifted for the benchmark.
        TESSERA_RATE_LIMIT_PER_MINUTE: '100000000',
      },
    });
    const fleet = new BenchFleet(cluster);
    try {
      await waitFor(
        'three ALIVE kv-nodes',
        async () => {
          const nodes = await fleet.nodes();
          return nodes.length === NODES.length && nodes.every((n) => n.state === 'ALIVE');
        },
        { timeoutMs: 60_000 },
      );
      const created = await cluster.api('POST', '/resources', {
        name: RESOURCE,
        partitions,
        replicationFactor: REPLICATION_FACTOR,
      });
      if (created.status !== 201)
        throw new Error(`creating ${RESOURCE}: ${JSON.stringify(created)}`);
      await fleet.settled('the new resource', 60_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return fleet;
  }

  /** Base URL of the coordinator (no /api/v1). */
  get apiBase(): string {
    return this.cluster.apiUrl.replace(/\/api\/v1$/, '');
  }

  async nodes(): Promise<NodeViewV1[]> {
    return (await this.cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
  }

  async resource(): Promise<MapResourceV1> {
    const map = (await this.cluster.api<MapViewV1>('GET', '/map')).body;
    const r = map.resources.find((x) => x.name === RESOURCE);
    if (!r) throw new Error(`${RESOURCE} is not in the map`);
    return r;
  }

  private async running(): Promise<boolean> {
    const ops = (await this.cluster.api<OperationV1[]>('GET', '/operations')).body;
    return ops.some((o) => o.state === 'RUNNING');
  }

  /** Every partition led, fully replicated and in sync, and no operation running. */
  async settled(what: string, timeoutMs: number): Promise<void> {
    await waitFor(
      `${what} to settle`,
      async () => {
        const r = await this.resource();
        const steady = r.partitions.every(
          (p) =>
            p.leader !== null &&
            p.replicas.length === REPLICATION_FACTOR &&
            p.isr.length === REPLICATION_FACTOR,
        );
        return steady && r.partitions.length === r.partitionCount && !(await this.running());
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Drains a node until it holds nothing, then returns it and waits for the rebalance onto it. */
  async drainAndReturn(node: string): Promise<void> {
    const reply = await this.cluster.api<NodeAdminReplyV1>('POST', `/nodes/${node}/drain`);
    if (reply.status !== 200) throw new Error(`drain ${node}: ${JSON.stringify(reply.body)}`);
    await waitFor(
      `${node} to be drained`,
      async () => {
        const r = await this.resource();
        return !r.partitions.some((p) => p.replicas.includes(node)) && !(await this.running());
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    const back = await this.cluster.api<NodeAdminReplyV1>('POST', `/nodes/${node}/undrain`);
    if (back.status !== 200) throw new Error(`undrain ${node}: ${JSON.stringify(back.body)}`);
    // The coordinator rebalances onto an empty ALIVE node on its own (join rebalance).
    await waitFor(
      `replicas to return to ${node}`,
      async () => (await this.resource()).partitions.some((p) => p.replicas.includes(node)),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await this.settled(`the rebalance onto ${node}`, 180_000);
  }

  /** The kv-node leading the most partitions of the resource. */
  async topLeader(): Promise<string> {
    const counts = new Map<string, number>();
    for (const p of (await this.resource()).partitions) {
      if (p.leader) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    }
    const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    if (!top) throw new Error('no partition has a leader');
    return top[0];
  }

  /** SIGKILL a node, wait for its partitions to fail over, restart it, wait for it to catch up. */
  async killAndRestart(victim: string): Promise<void> {
    await this.cluster.kill(victim);
    await waitFor(
      `failover away from ${victim}`,
      async () =>
        (await this.resource()).partitions.every((p) => p.leader !== null && p.leader !== victim),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    this.cluster.restartNode(victim);
    await this.settled(`${victim} rejoining`, 120_000);
  }

  logs(): string {
    return this.cluster.logs();
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}
