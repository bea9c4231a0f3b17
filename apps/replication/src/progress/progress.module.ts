import { Module } from '@nestjs/common';
import { IsrManager } from '../isr/isr-manager.service';
import { ReplicaProgressRepository } from './replica-progress.repository';
import { ReplicaReportController } from './replica-report.controller';
import { ReplicasController } from './replicas.controller';
import { ReplicationManager } from './replication-manager.service';

@Module({
  controllers: [ReplicaReportController, ReplicasController],
  providers: [ReplicationManager, ReplicaProgressRepository, IsrManager],
})
export class ProgressModule {}
