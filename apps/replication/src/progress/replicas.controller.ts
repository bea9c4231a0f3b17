import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import {
  API_PREFIX,
  type ListReplicasReplyV1,
  ListReplicasRequestV1,
  validateContract,
} from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { ReplicationManager } from './replication-manager.service';

/** `GET /api/v1/replicas?resource=NAME`: every replica's position and lag. */
@Controller(`${API_PREFIX}/replicas`)
@UseGuards(AdminTokenGuard)
export class ReplicasController {
  constructor(private readonly manager: ReplicationManager) {}

  @Get()
  list(@Query() query: unknown): Promise<ListReplicasReplyV1> {
    const request = validateContract(ListReplicasRequestV1, { ...(query as object) });
    return this.manager.listReplicas(request.resource);
  }
}
