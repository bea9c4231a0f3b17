import { Module } from '@nestjs/common';
import { ConsensusManager } from './consensus-manager.service';
import { PartitionController } from './partition.controller';
import { RoleDispatcher } from './role-dispatcher.service';

@Module({
  controllers: [PartitionController],
  providers: [ConsensusManager, RoleDispatcher],
  exports: [ConsensusManager],
})
export class PartitionModule {}
