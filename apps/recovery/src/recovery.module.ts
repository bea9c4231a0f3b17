import { Module } from '@nestjs/common';
import { LeaseModule } from './lease/lease.module';
import { OperationsModule } from './operations/operations.module';
import { RereplicationModule } from './rereplication/rereplication.module';

/** Recovery: failover at once on a death, re-replication after the grace delay. */
@Module({ imports: [LeaseModule, OperationsModule, RereplicationModule] })
export class RecoveryModule {}
