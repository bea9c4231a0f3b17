import { Module } from '@nestjs/common';
import { HealthMonitor } from './health-monitor.service';
import { HeartbeatController } from './heartbeat.controller';
import { LivenessRepository } from './liveness.repository';

@Module({
  controllers: [HeartbeatController],
  providers: [HealthMonitor, LivenessRepository],
  exports: [HealthMonitor],
})
export class LivenessModule {}
