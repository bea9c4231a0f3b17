import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { GetOperationRequestV1, type GetOperationReplyV1, Subjects } from '@tessera/contracts';
import { OperationLog } from './operation-log.service';

@Controller()
export class OperationRpcController {
  constructor(private readonly operations: OperationLog) {}

  @MessagePattern(Subjects.coordinator.getOperation)
  async get(@Payload() req: GetOperationRequestV1): Promise<GetOperationReplyV1> {
    return { operation: await this.operations.get(req.id) };
  }
}
