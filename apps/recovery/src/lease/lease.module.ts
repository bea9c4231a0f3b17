import { Module } from '@nestjs/common';
import { RecoveryLease } from './recovery-lease.service';
import { RecoveryStatusController } from './recovery-status.controller';

@Module({
  controllers: [RecoveryStatusController],
  providers: [RecoveryLease],
  exports: [RecoveryLease],
})
export class LeaseModule {}
