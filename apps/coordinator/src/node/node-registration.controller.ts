import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RegisterNodeRequestV1, type RegisterNodeReplyV1, Subjects } from '@tessera/contracts';
import { NodeRegistry } from './node-registry.service';

@Controller()
export class NodeRegistrationController {
  constructor(private readonly nodes: NodeRegistry) {}

  @MessagePattern(Subjects.coordinator.registerNode)
  register(@Payload() req: RegisterNodeRequestV1): Promise<RegisterNodeReplyV1> {
    return this.nodes.register(req);
  }
}
