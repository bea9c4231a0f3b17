import { Inject, Injectable } from '@nestjs/common';
import {
  type ErrorReplyV1,
  type KvGetReplyV1,
  KvGetRequestV1,
  type KvPutReplyV1,
  KvPutRequestV1,
  type OkReply,
  type RoleAssignmentV1,
  TesseraError,
  partitionForKey,
  validateContract,
} from '@tessera/contracts';
import { type RoleView } from '@tessera/node-agent';
import { PinoLogger } from 'nestjs-pino';
import { NodeAgentService } from '../agent/node-agent.service';
import { StoreRegistry } from '../storage/store-registry.service';
import { WRITE_REPLICATOR, WriteReplicator } from './replicator';

/** The leadership the kv service needs to know about (the node agent's guard). */
export interface LeadershipGuard {
  currentRole(resource: string, partition: number): RoleView;
}

export type KvReply<T> = OkReply<T> | ErrorReplyV1;

/**
 * Serves put/get for the partitions this node leads. Every request is validated, routed to the
 * right partition, and checked against the current leadership before it touches the log.
 */
@Injectable()
export class KvService {
  private readonly guard: LeadershipGuard;

  constructor(
    agent: NodeAgentService,
    private readonly stores: StoreRegistry,
    @Inject(WRITE_REPLICATOR) private readonly replicator: WriteReplicator,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(KvService.name);
    this.guard = agent.node;
  }

  async put(resource: string, partition: number, payload: unknown): Promise<KvReply<KvPutReplyV1>> {
    return this.handle('put', resource, partition, async () => {
      const request = validateContract(KvPutRequestV1, payload);
      const { assignment, epoch } = this.leadership(resource, partition, request.key);
      const store = await this.stores.get(resource, partition);
      // Leadership may have moved while the store opened.
      this.leadership(resource, partition, request.key, epoch);
      const record = await store.append(epoch, request.key, request.value);
      await this.replicator.replicate(assignment, record);
      return { epoch, offset: record.offset };
    });
  }

  async get(resource: string, partition: number, payload: unknown): Promise<KvReply<KvGetReplyV1>> {
    return this.handle('get', resource, partition, async () => {
      const request = validateContract(KvGetRequestV1, payload);
      const { epoch } = this.leadership(resource, partition, request.key);
      const store = await this.stores.get(resource, partition);
      this.leadership(resource, partition, request.key, epoch);
      return { value: store.get(request.key)?.value ?? null, epoch };
    });
  }

  /** Throws NOT_LEADER unless this node leads the partition (at `epoch`, when given). */
  private leadership(
    resource: string,
    partition: number,
    key: string,
    epoch?: string,
  ): { assignment: RoleAssignmentV1; epoch: string } {
    const view = this.guard.currentRole(resource, partition);
    if (
      view.role !== 'LEADER' ||
      view.assignment === null ||
      view.epoch === null ||
      (epoch !== undefined && view.epoch !== epoch)
    ) {
      const leader = view.assignment?.leader ?? null;
      throw new TesseraError(
        'NOT_LEADER',
        `this node does not lead ${resource}/${partition} (leader: ${leader ?? 'unknown'}, epoch: ${view.epoch ?? 'none'})`,
      );
    }
    const owner = partitionForKey(key, view.assignment.partitionCount);
    if (owner !== partition) {
      throw new TesseraError(
        'INVALID',
        `key belongs to partition ${owner} of ${resource}, not ${partition}`,
      );
    }
    return { assignment: view.assignment, epoch: view.epoch };
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
