import { Module } from '@nestjs/common';
import { ControllerModule } from '../controller/controller.module';
import { MapModule } from '../map/map.module';
import { MigrationDriver } from './migration-driver.service';
import { MigrationRpcController } from './migration-rpc.controller';
import { MigrationPlanner } from './migration-planner.service';

@Module({
  imports: [ControllerModule, MapModule],
  controllers: [MigrationRpcController],
  providers: [MigrationDriver, MigrationPlanner],
  exports: [MigrationDriver, MigrationPlanner],
})
export class MigrationModule {}
