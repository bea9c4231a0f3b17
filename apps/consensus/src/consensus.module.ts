import { Module } from '@nestjs/common';
import { PartitionModule } from './partition/partition.module';

/** Consensus: the single writer of leader-and-ISR state (and, later, of singleton leases). */
@Module({ imports: [PartitionModule] })
export class ConsensusModule {}
