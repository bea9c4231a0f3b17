import { Module } from '@nestjs/common';
import { ReplicaProgressRepository } from './replica-progress.repository';
import { ReplicaReportController } from './replica-report.controller';
import { ReplicasController } from './replicas.controller';
import { ReplicationManager } from './replication-manager.service';

@Module({
  controllers: [ReplicaReportController, ReplicasController],
  providers: [ReplicationManager, ReplicaProgressRepository],
})
export class ProgressModule {}
