import { Module } from '@nestjs/common';
import { LeaseModule } from './lease/lease.module';
import { OperationsModule } from './operations/operations.module';

@Module({ imports: [LeaseModule, OperationsModule] })
export class RecoveryModule {}
