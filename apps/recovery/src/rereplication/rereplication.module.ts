import { Module } from '@nestjs/common';
import { LeaseModule } from '../lease/lease.module';
import { OperationsModule } from '../operations/operations.module';
import { ReReplicator } from './rereplicator.service';

@Module({
  imports: [LeaseModule, OperationsModule],
  providers: [ReReplicator],
})
export class RereplicationModule {}
