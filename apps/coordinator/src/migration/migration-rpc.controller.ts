import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ReplaceNodeRequestV1, type ReplaceNodeReplyV1, Subjects } from '@tessera/contracts';
import { MigrationDriver } from './migration-driver.service';

/** NATS: recovery asks for a dead node's re-placement once its grace delay is over. */
@Controller()
export class MigrationRpcController {
  constructor(private readonly migrations: MigrationDriver) {}

  @MessagePattern(Subjects.coordinator.replaceNode)
  async replace(@Payload() req: ReplaceNodeRequestV1): Promise<ReplaceNodeReplyV1> {
    return { nodeId: req.nodeId, operationId: await this.migrations.replace(req.nodeId) };
  }
}
