import { Module } from '@nestjs/common';
import { OperationRepository } from './operation.repository';
import { OperationsApiController } from './operations-api.controller';
import { OperationsController } from './operations.controller';
import { RecoveryManager } from './recovery-manager.service';

@Module({
  controllers: [OperationsController, OperationsApiController],
  providers: [RecoveryManager, OperationRepository],
})
export class OperationsModule {}
