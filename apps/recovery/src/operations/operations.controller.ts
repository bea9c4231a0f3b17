import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type ListOperationsReplyV1, ListOperationsRequestV1, Subjects } from '@tessera/contracts';
import { RecoveryManager } from './recovery-manager.service';

/** NATS side of recovery: the operations it ran, newest first. */
@Controller()
export class OperationsController {
  constructor(private readonly manager: RecoveryManager) {}

  @MessagePattern(Subjects.recovery.listOperations)
  list(@Payload() request: ListOperationsRequestV1): Promise<ListOperationsReplyV1> {
    return this.manager.listOperations(request.limit);
  }
}
