import { Module } from '@nestjs/common';
import { MigrationModule } from '../migration/migration.module';
import { NodeController } from './node.controller';
import { NodeRegistrationController } from './node-registration.controller';
import { NodeRegistry } from './node-registry.service';

@Module({
  imports: [MigrationModule],
  controllers: [NodeController, NodeRegistrationController],
  providers: [NodeRegistry],
  exports: [NodeRegistry],
})
export class NodeModule {}
