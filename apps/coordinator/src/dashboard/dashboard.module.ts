import { Module } from '@nestjs/common';
import { MapModule } from '../map/map.module';
import { NodeModule } from '../node/node.module';
import { OperationModule } from '../operation/operation.module';
import { ResourceModule } from '../resource/resource.module';
import { DashboardController } from './dashboard.controller';
import { DashboardSnapshots } from './dashboard-snapshot.service';
import { DashboardStream } from './dashboard-stream.service';
import { StreamTokenGuard } from './stream-token.guard';

/** The live dashboard: the page at `/` and its snapshot stream at `/api/v1/stream`. */
@Module({
  imports: [NodeModule, MapModule, OperationModule, ResourceModule],
  controllers: [DashboardController],
  providers: [DashboardSnapshots, DashboardStream, StreamTokenGuard],
})
export class DashboardModule {}
