import { Injectable } from '@nestjs/common';
import {
  type ErrorReplyV1,
  type KvGetReplyV1,
  KvGetRequestV1,
  type KvPutReplyV1,
  KvPutRequestV1,
  type OkReply,
  TesseraError,
  partitionForKey,
  validateContract,
} from '@tessera/contracts';
import { type RoleView } from '@tessera/node-agent';
import { PinoLogger } from 'nestjs-pino';
import { NodeAgentService } from '../agent/node-agent.service';
import { type LeaderReplica } from '../replication/leader-replica';
import { ReplicaManager } from '../replication/replica-manager.service';

/** The leadership the kv service needs to know about (the node agent's guard). */
export interface LeadershipGuard {
  currentRole(resource: string, partition: number): RoleView;
  /** Role LEADER at the epoch, a fresh confirmed lease, no newer epoch seen. */
  mayServe(resource: string, partition: number, epoch?: string): boolean;
}

/** How long a get waits for a new leader's high watermark to cover what it inherited. */
const READ_BARRIER_WAIT_MS = 1_000;

export type KvReply<T> = OkReply<T> | ErrorReplyV1;

/**
 * Serves put/get for the partitions this node leads. Every request is validated, routed to the
 * right partition, and checked against the current leadership — role, epoch and leader lease —
 * before it touches the log, and again before it is answered.
 *
 * Put outcomes: `{ ok: true }` only once every ISR member has the write durably. NOT_LEADER,
 * INVALID and NOT_ENOUGH_REPLICAS "nothing was written" are refusals before any append; a
 * failure after the append (TIMEOUT, NOT_ENOUGH_REPLICAS "may or may not survive", UNAVAILABLE
 * from a failed disk write) leaves the outcome unknown.
 */
@Injectable()
export class KvService {
  private readonly guard: LeadershipGuard;

  constructor(
    agent: NodeAgentService,
    private readonly replicas: ReplicaManager,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(KvService.name);
    this.guard = agent.node;
  }

  async put(resource: string, partition: number, payload: unknown): Promise<KvReply<KvPutReplyV1>> {
    return this.handle('put', resource, partition, async () => {
      const request = validateContract(KvPutRequestV1, payload);
      const { leader, epoch } = this.leadership(resource, partition, request.key);
      const record = await leader.put(request.key, request.value);
      return { epoch, offset: record.offset };
    });
  }

  async get(resource: string, partition: number, payload: unknown): Promise<KvReply<KvGetReplyV1>> {
    return this.handle('get', resource, partition, async () => {
      const request = validateContract(KvGetRequestV1, payload);
      const { leader, epoch } = this.leadership(resource, partition, request.key);
      await leader.awaitReadable(READ_BARRIER_WAIT_MS);
      // Leadership or the lease may have gone while we waited.
      this.leadership(resource, partition, request.key, epoch);
      return { value: leader.read(request.key)?.value ?? null, epoch };
    });
  }

  /**
   * Throws NOT_LEADER unless this node may serve the partition as leader (at `epoch`, when
   * given): the role, a fresh lease, no newer epoch seen, and its leader state in place.
   */
  private leadership(
    resource: string,
    partition: number,
    key: string,
    epoch?: string,
  ): { leader: LeaderReplica; epoch: string } {
    const view = this.guard.currentRole(resource, partition);
    const leader =
      view.role === 'LEADER' && view.epoch !== null && (epoch === undefined || view.epoch === epoch)
        ? this.replicas.leaderFor(resource, partition, view.epoch)
        : undefined;
    if (
      !leader ||
      view.assignment === null ||
      view.epoch === null ||
      !this.guard.mayServe(resource, partition, view.epoch)
    ) {
      const named = view.assignment?.leader ?? null;
      const why =
        view.role === 'LEADER' && leader
          ? 'its leader lease is not fresh, or a newer epoch was seen'
          : `leader: ${named ?? 'unknown'}, epoch: ${view.epoch ?? 'none'}`;
      throw new TesseraError(
        'NOT_LEADER',
        `this node does not serve ${resource}/${partition} as leader (${why})`,
      );
    }
    const owner = partitionForKey(key, view.assignment.partitionCount);
    if (owner !== partition) {
      throw new TesseraError(
        'INVALID',
        `key belongs to partition ${owner} of ${resource}, not ${partition}`,
      );
    }
    return { leader, epoch: view.epoch };
  }

  private async handle<T extends object>(
    op: 'put' | 'get',
    resource: string,
    partition: number,
    fn: () => Promise<T>,
  ): Promise<KvReply<T>> {
    try {
      return { ok: true, ...(await fn()) };
    } catch (error) {
      if (error instanceof TesseraError && error.code !== 'INTERNAL') {
        const context = { op, resource, partition, code: error.code, reason: error.message };
        // Bad input is worth a warning; a client reaching a former leader is routine.
        if (error.code === 'INVALID') this.logger.warn(context, 'kv request refused');
        else this.logger.debug(context, 'kv request refused');
        return error.toReply();
      }
      this.logger.error({ op, resource, partition, err: error }, 'kv request failed');
      return { ok: false, code: 'UNAVAILABLE', message: 'the node could not serve the request' };
    }
  }
}
