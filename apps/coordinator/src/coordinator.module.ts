import { Module } from '@nestjs/common';
import { ControllerModule } from './controller/controller.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { MapModule } from './map/map.module';
import { NodeModule } from './node/node.module';
import { OperationModule } from './operation/operation.module';
import { ResourceModule } from './resource/resource.module';

/** Coordinator: nodes, resources, target assignments, map versions, the admin API and the dashboard. */
@Module({
  imports: [ControllerModule, NodeModule, MapModule, OperationModule, ResourceModule, DashboardModule],
})
export class CoordinatorModule {}
