import { Module } from '@nestjs/common';
import { ControllerLease } from './controller-lease.service';
import { ControllerStatusController } from './controller.controller';

@Module({
  controllers: [ControllerStatusController],
  providers: [ControllerLease],
  exports: [ControllerLease],
})
export class ControllerModule {}
