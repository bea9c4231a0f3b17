import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { type ListReplicasReplyV1, ListReplicasRequestV1, Subjects } from '@tessera/contracts';
import { TesseraRpcContext } from '@tessera/messaging';
import { ReplicationManager } from './replication-manager.service';

/** NATS side of replication: node reports in, replica progress out. */
@Controller()
export class ReplicaReportController {
  constructor(private readonly manager: ReplicationManager) {}

  /** Validated by the manager, which counts what it refuses. */
  @EventPattern(Subjects.replication.reportPattern)
  report(@Payload() payload: unknown, @Ctx() ctx: TesseraRpcContext): Promise<void> {
    return this.manager.report(ctx.getSubjectIdentity(), payload);
  }

  @MessagePattern(Subjects.replication.listReplicas)
  list(@Payload() request: ListReplicasRequestV1): Promise<ListReplicasReplyV1> {
    return this.manager.listReplicas(request.resource);
  }
}
