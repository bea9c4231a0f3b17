import { Module } from '@nestjs/common';
import { NodeController } from './node.controller';
import { NodeRegistrationController } from './node-registration.controller';
import { NodeRegistry } from './node-registry.service';

@Module({
  controllers: [NodeController, NodeRegistrationController],
  providers: [NodeRegistry],
  exports: [NodeRegistry],
})
export class NodeModule {}
