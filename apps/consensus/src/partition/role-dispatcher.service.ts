import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { type RoleAssignmentV1, Subjects } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { MetricsService } from '@tessera/service-kit';
import { type Counter } from 'prom-client';

/**
 * Assignments per role command. A node validates a command in one go before it can do anything
 * else (heartbeats included); on a busy 2-core machine 2,000 took over a second — long enough to
 * be declared DEAD. 250 keep each command's work short; commands are sent one by one.
 */
const COMMAND_CHUNK = 250;

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

  dispatch(commands: Map<string, RoleAssignmentV1[]>): void {
    for (const [nodeId, assignments] of commands) {
      for (let i = 0; i < assignments.length; i += COMMAND_CHUNK) {
        void this.send(nodeId, assignments.slice(i, i + COMMAND_CHUNK));
      }
    }
  }

  private async send(nodeId: string, assignments: RoleAssignmentV1[]): Promise<void> {
    try {
      const reply = await this.network.request(
        'node.role.assign',
        Subjects.node.assignRoles(nodeId),
        { nodeId, assignments },
        { timeoutMs: 2_000, retries: 1 },
      );
      this.sent.inc(reply.accepted);
      if (reply.rejected.length > 0) {
        this.log.warn({ nodeId, rejected: reply.rejected.length, sample: reply.rejected[0] }, 'node refused stale role commands');
      }
    } catch (error) {
      this.failed.inc(assignments.length);
      this.log.warn({ nodeId, err: error, assignments: assignments.length }, 'role command not delivered; the node will reconcile');
    }
  }
}
