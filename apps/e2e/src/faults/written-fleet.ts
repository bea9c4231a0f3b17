import { connect, type NatsConnection } from 'nats';
import { type MapResourceV1, type MapViewV1, type NodeViewV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { type EventLog, type KvNodeSpec, TestCluster } from '../cluster';
import { type History } from './history';
import { KvWriter } from './kv-writer';
import { ControlPlaneRecorder } from './recorder';

export interface WrittenFleetOptions {
  nodes: KvNodeSpec[];
  resource: string;
  partitions: number;
  replicationFactor?: number;
}

/**
 * The fault scenarios' common ground: a fleet, its events and control-plane commands recorded
 * into the history, one resource fully in sync, and a writer putting unique values to every
 * partition (already acknowledged on each) before the fault starts.
 */
export class WrittenFleet {
  private constructor(
    readonly cluster: TestCluster,
    readonly events: EventLog,
    readonly recorder: ControlPlaneRecorder,
    readonly writer: KvWriter,
    readonly nc: NatsConnection,
    private readonly history: History,
    private readonly options: WrittenFleetOptions,
  ) {}

  static async start(prefix: string, history: History, options: WrittenFleetOptions): Promise<WrittenFleet> {
    const cluster = await TestCluster.start(prefix, { nodes: options.nodes });
    const withLogs = (error: unknown): never => {
      throw new Error(`${String(error)}\n${cluster.logs()}`);
    };
    const events = await cluster.collectEvents();
    const recorder = await ControlPlaneRecorder.start(cluster.env.natsUrl, cluster.env.cluster, history, events);
    const nc = await connect({ servers: cluster.env.natsUrl });
    const rf = options.replicationFactor ?? 3;
    await waitFor(
      'every node ALIVE',
      async () => {
        const nodes = (await cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
        return nodes.length === options.nodes.length && nodes.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 30_000 },
    ).catch(withLogs);
    const created = await cluster.api('POST', '/resources', {
      name: options.resource,
      partitions: options.partitions,
      replicationFactor: rf,
    });
    if (created.status !== 201) throw new Error(`resource not created: ${created.status}`);
    const partitions = Array.from({ length: options.partitions }, (_, p) => p);
    const writer = new KvWriter(nc, cluster.env.cluster, history, {
      resource: options.resource,
      partitionCount: options.partitions,
      partitions,
      prefix,
    });
    const fleet = new WrittenFleet(cluster, events, recorder, writer, nc, history, options);
    await waitFor(
      'every partition led, fully in sync',
      async () => {
        const r = await fleet.resource().catch(() => undefined);
        return r && r.partitions.length === options.partitions && r.partitions.every((p) => p.leader !== null && p.isr.length === rf);
      },
      { timeoutMs: 30_000 },
    ).catch(withLogs);
    writer.start();
    await waitFor('a write acknowledged on every partition', () => partitions.every((p) => writer.acked(p) > 0)).catch(withLogs);
    return fleet;
  }

  async map(): Promise<MapViewV1> {
    return (await this.cluster.api<MapViewV1>('GET', '/map')).body;
  }

  async resource(): Promise<MapResourceV1> {
    const found = (await this.map()).resources.find((r) => r.name === this.options.resource);
    if (!found) throw new Error(`no ${this.options.resource} in the map`);
    return found;
  }

  /** Rethrows with every process's recent log, for a failing wait. */
  readonly withLogs = (error: unknown): never => {
    throw new Error(`${String(error)}\n${this.cluster.logs()}`);
  };

  async close(): Promise<void> {
    this.writer.close();
    await this.recorder.close();
    await this.nc.close();
    if (this.history.entries.length > 0) this.history.save();
    await this.cluster.stop();
  }
}
