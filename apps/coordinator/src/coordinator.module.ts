import { Module } from '@nestjs/common';
import { ControllerLease } from './controller/controller-lease.service';
import { ControllerStatusController } from './controller/controller.controller';
import { MapController } from './map/map.controller';
import { MapService } from './map/map.service';
import { NodeModule } from './node/node.module';
import { OperationController } from './operation/operation.controller';
import { OperationLog } from './operation/operation-log.service';
import { PartitionCoordinator } from './resource/partition-coordinator.service';
import { ResourceController } from './resource/resource.controller';

/** Coordinator: nodes, resources, target assignments, map versions and the admin API. */
@Module({
  imports: [NodeModule],
  controllers: [MapController, ResourceController, OperationController, ControllerStatusController],
  providers: [ControllerLease, MapService, OperationLog, PartitionCoordinator],
})
export class CoordinatorModule {}
