import { Module } from '@nestjs/common';
import { ControllerModule } from '../controller/controller.module';
import { MapModule } from '../map/map.module';
import { MigrationModule } from '../migration/migration.module';
import { OperationModule } from '../operation/operation.module';
import { PartitionCoordinator } from './partition-coordinator.service';
import { ResourceController } from './resource.controller';

@Module({
  imports: [ControllerModule, MapModule, MigrationModule, OperationModule],
  controllers: [ResourceController],
  providers: [PartitionCoordinator],
  exports: [PartitionCoordinator],
})
export class ResourceModule {}
