import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type ListOperationsReplyV1,
  ListOperationsRequestV1,
  Subjects,
  type UpdateOperationReplyV1,
  UpdateOperationRequestV1,
} from '@tessera/contracts';
import { RecoveryManager } from './recovery-manager.service';

/** NATS side of recovery: the operations it ran, newest first; an operator's grace override. */
@Controller()
export class OperationsController {
  constructor(private readonly manager: RecoveryManager) {}

  @MessagePattern(Subjects.recovery.listOperations)
  list(@Payload() request: ListOperationsRequestV1): Promise<ListOperationsReplyV1> {
    return this.manager.listOperations(request.limit);
  }

  @MessagePattern(Subjects.recovery.updateOperation)
  async update(@Payload() request: UpdateOperationRequestV1): Promise<UpdateOperationReplyV1> {
    return { operation: await this.manager.setGrace(request.id, request.graceMs) };
  }
}
