import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type RoleAssignmentV1, Subjects } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { MetricsService } from '@tessera/service-kit';
import { type Counter } from 'prom-client';

/**
 * Assignments per role command. A node validates a command in one go before it can do anything
 * else (heartbeats included); on a busy 2-core machine 2,000 took over a second — long enough to
 * be declared DEAD. 250 keep each command's work short.
 */
const COMMAND_CHUNK = 250;
/**
 * Commands in flight per node. A node applies them one at a time anyway; sending a failover's
 * dozens at once only made the last ones time out while queued at the node (and their retries
 * doubled its work). Two keep the node busy without a gap between commands.
 */
const IN_FLIGHT_PER_NODE = 2;
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * Tells nodes their roles after a commit. Best effort by design: a node that misses a command
 * repairs itself by asking `consensus.node.roles.<id>` periodically, and epochs make any
 * re-delivery or reordering harmless.
 */
@Injectable()
export class RoleDispatcher {
  private readonly sent: Counter;
  private readonly failed: Counter;

  constructor(
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
    metrics: MetricsService,
  ) {
    this.log.setContext(RoleDispatcher.name);
    this.sent = metrics.counter('tessera_role_commands_total', 'Role commands acknowledged by nodes');
    this.failed = metrics.counter('tessera_role_commands_failed_total', 'Role commands not acknowledged');
  }

  /** Per node: commands waiting to be sent, and how many are in flight. */
  private readonly queues = new Map<string, { waiting: RoleAssignmentV1[][]; inFlight: number }>();

  dispatch(commands: Map<string, RoleAssignmentV1[]>): void {
    for (const [nodeId, assignments] of commands) {
      let queue = this.queues.get(nodeId);
      if (!queue) {
        queue = { waiting: [], inFlight: 0 };
        this.queues.set(nodeId, queue);
      }
      for (let i = 0; i < assignments.length; i += COMMAND_CHUNK) {
        queue.waiting.push(assignments.slice(i, i + COMMAND_CHUNK));
      }
      this.pump(nodeId);
    }
  }

  private pump(nodeId: string): void {
    const queue = this.queues.get(nodeId);
    if (!queue) return;
    if (queue.inFlight === 0 && queue.waiting.length === 0) {
      this.queues.delete(nodeId);
      return;
    }
    while (queue.inFlight < IN_FLIGHT_PER_NODE && queue.waiting.length > 0) {
      const chunk = queue.waiting.shift() ?? [];
      queue.inFlight++;
      void this.send(nodeId, chunk).then((delivered) => {
        queue.inFlight--;
        if (!delivered && queue.waiting.length > 0) {
          // A node that does not answer would let each queued command time out in turn; it
          // asks for its whole role set (reconcile) once it is back, so drop them.
          const dropped = queue.waiting.splice(0).reduce((n, c) => n + c.length, 0);
          this.failed.inc(dropped);
          this.log.warn({ nodeId, assignments: dropped }, 'dropped role commands queued for a node that did not answer');
        }
        this.pump(nodeId);
      });
    }
  }

  private async send(nodeId: string, assignments: RoleAssignmentV1[]): Promise<boolean> {
    try {
      const reply = await this.network.request(
        'node.role.assign',
        Subjects.node.assignRoles(nodeId),
        { nodeId, assignments },
        { timeoutMs: COMMAND_TIMEOUT_MS },
      );
      this.sent.inc(reply.accepted);
      if (reply.rejected.length > 0) {
        this.log.warn({ nodeId, rejected: reply.rejected.length, sample: reply.rejected[0] }, 'node refused stale role commands');
      }
      return true;
    } catch (error) {
      this.failed.inc(assignments.length);
      this.log.warn({ nodeId, err: error, assignments: assignments.length }, 'role command not delivered; the node will reconcile');
      return false;
    }
  }
}
