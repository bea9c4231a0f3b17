import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { type RoleAssignmentV1, Subjects } from '@tessera/contracts';
import { NetworkManager, decodeJson } from '@tessera/messaging';
import { type Msg } from 'nats';
import { PinoLogger } from 'nestjs-pino';
import { NodeAgentService } from '../agent/node-agent.service';
import { ReplicaManager } from '../replication/replica-manager.service';
import { StoreRegistry } from '../storage/store-registry.service';
import { KvService } from './kv.service';

interface Served {
  unsubscribe(): void;
}

/**
 * Follows this node's leadership: while it leads a partition it subscribes to the partition's
 * put/get subjects (no queue group: only the leader listens, so a request reaches the leader or
 * times out); the moment it stops leading, it unsubscribes and lets in-flight writes finish.
 */
@Injectable()
export class KvLeaderService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly served = new Map<string, Served[]>();
  /** New subscriptions the NATS server must know before the role command is answered. */
  private flushNeeded = false;

  constructor(
    private readonly agent: NodeAgentService,
    private readonly network: NetworkManager,
    private readonly stores: StoreRegistry,
    private readonly replicas: ReplicaManager,
    private readonly kv: KvService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(KvLeaderService.name);
  }

  onModuleInit(): void {
    this.agent.node.onRoleChange((assignment) => this.follow(assignment));
    // The server should know the new subscriptions before the role command is answered: one
    // flush per command, not per partition (bounded: a flush waits for a reconnect, and the role
    // queue must not).
    this.agent.node.onRolesApplied(async () => {
      if (!this.flushNeeded) return;
      this.flushNeeded = false;
      await this.flush(2_000);
    });
  }

  /** Partitions whose subjects this node currently serves. */
  get serving(): string[] {
    return [...this.served.keys()];
  }

  private async follow(a: RoleAssignmentV1): Promise<void> {
    const key = `${a.resource}/${a.partition}`;
    const context = {
      nodeId: this.agent.node.nodeId,
      resource: a.resource,
      partition: a.partition,
      epoch: a.leaderEpoch,
    };
    if (a.role === 'LEADER') {
      // Replay the log and set up the leader state (stopping the follower loop) before taking
      // requests, so the first request finds both.
      await this.stores.get(a.resource, a.partition, a.createdEpoch);
      await this.replicas.apply(a);
      if (!this.agent.node.isLeader(a.resource, a.partition) || this.served.has(key)) return;
      this.served.set(key, [
        this.network.subscribe(Subjects.kv.put(a.resource, a.partition), (msg) =>
          this.serve(msg, 'put', a.resource, a.partition),
        ),
        this.network.subscribe(Subjects.kv.get(a.resource, a.partition), (msg) =>
          this.serve(msg, 'get', a.resource, a.partition),
        ),
      ]);
      this.flushNeeded = true;
      this.logger.info(context, 'serving partition as leader');
      return;
    }
    const subs = this.served.get(key);
    this.served.delete(key);
    for (const s of subs ?? []) s.unsubscribe();
    // Waiting puts fail (outcome unknown), then the follower loop starts (FOLLOWER) or stops.
    await this.replicas.apply(a);
    if (!subs) return;
    // Writes accepted under the old epoch reach the disk before the demotion is acknowledged.
    await (await this.stores.get(a.resource, a.partition, a.createdEpoch)).drain();
    this.logger.info({ ...context, role: a.role }, 'stopped serving partition');
  }

  private async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([this.network.connection.flush().catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async serve(
    msg: Msg,
    op: 'put' | 'get',
    resource: string,
    partition: number,
  ): Promise<void> {
    let payload: unknown;
    try {
      payload = decodeJson(msg.data);
    } catch {
      this.logger.warn({ op, resource, partition }, 'refused a kv request that is not JSON');
      NetworkManager.respondError(msg, {
        ok: false,
        code: 'INVALID_JSON',
        message: 'payload is not valid JSON',
      });
      return;
    }
    const reply =
      op === 'put'
        ? await this.kv.put(resource, partition, payload)
        : await this.kv.get(resource, partition, payload);
    NetworkManager.respond(msg, reply);
  }

  beforeApplicationShutdown(): void {
    for (const subs of this.served.values()) for (const s of subs) s.unsubscribe();
    this.served.clear();
  }
}
