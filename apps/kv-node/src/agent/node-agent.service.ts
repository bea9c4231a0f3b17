import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { NetworkManager } from '@tessera/messaging';
import { PartitionNode, ThreadHeartbeats, partitionKey } from '@tessera/node-agent';
import { Subjects } from '@tessera/contracts';
import { ReadinessRegistry } from '@tessera/service-kit';
import { PinoLogger } from 'nestjs-pino';
import { KV_CONFIG, KvNodeConfig } from '../config/kv-config';
import { StoreRegistry } from '../storage/store-registry.service';

/**
 * Owns this process's PartitionNode: starts it after boot (registration retries in the
 * background, so boot never waits on the control plane), and stops it before anything else
 * shuts down.
 */
@Injectable()
export class NodeAgentService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly node: PartitionNode;

  constructor(
    @Inject(KV_CONFIG) private readonly config: KvNodeConfig,
    private readonly network: NetworkManager,
    stores: StoreRegistry,
    readiness: ReadinessRegistry,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(PartitionNode.name);
    const { nodeId, zone, rack, capacity, tags, dataDir, leaseMs } = config;
    this.node = new PartitionNode({
      nodeId,
      zone,
      rack,
      capacity,
      tags,
      dataDir,
      network,
      logger,
      leaseMs,
      // Off the event loop: a node busy with thousands of partitions is not a dead one.
      heartbeats: new ThreadHeartbeats({
        connection: network.threadConnection('heartbeats'),
        subject: network.subject(Subjects.health.heartbeat(nodeId)),
        onError: (error) => logger.error({ err: error, nodeId }, 'heartbeat thread failed'),
      }),
    });
    // ReplicaManager replaces this with positions that carry the leaders' high watermarks.
    this.node.providePositions((resource, partition) => stores.position(resource, partition));
    readiness.add('registered', () => this.node.isRegistered);
    // Once per process, after the first answer: logs of partitions taken off this node while it
    // was away (their NONE never came) would otherwise stay on disk for good.
    const sweepOnce = this.node.onReconciled(async (assignments) => {
      sweepOnce();
      const held = new Set(assignments.map((a) => partitionKey(a.resource, a.partition)));
      const swept = await stores.sweep(held);
      if (swept.length > 0)
        logger.info(
          { nodeId, partitions: swept.length, first: swept.slice(0, 20) },
          'deleted the logs of partitions taken off this node while it was away',
        );
    });
  }

  onApplicationBootstrap(): void {
    this.reconcileOnReconnect().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'stopped watching NATS status'),
    );
    this.node.start().catch((error: unknown) => {
      // Without its fencing record the node must not serve. Nothing is open yet: exit now.
      this.logger.fatal({ err: error, nodeId: this.config.nodeId }, 'node agent failed to start');
      process.stderr.write(`tessera-kv-node: node agent failed to start: ${String(error)}\n`);
      process.exit(1);
    });
  }

  /**
   * Core NATS drops whatever was sent while we were away (a role command included): ask for our
   * roles as soon as we are back rather than at the next reconcile tick.
   */
  private async reconcileOnReconnect(): Promise<void> {
    for await (const status of this.network.connection.status()) {
      if (status.type !== 'reconnect') continue;
      this.node
        .reconcile()
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'reconcile after reconnect failed'),
        );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.node.stop();
  }
}
