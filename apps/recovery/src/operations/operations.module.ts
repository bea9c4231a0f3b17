import { Module } from '@nestjs/common';
import { LeaseModule } from '../lease/lease.module';
import { OperationRepository } from './operation.repository';
import { OperationsApiController } from './operations-api.controller';
import { OperationsController } from './operations.controller';
import { RecoveryManager } from './recovery-manager.service';

@Module({
  imports: [LeaseModule],
  controllers: [OperationsController, OperationsApiController],
  providers: [RecoveryManager, OperationRepository],
  exports: [OperationRepository],
})
export class OperationsModule {}
