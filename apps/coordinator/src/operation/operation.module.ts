import { Module } from '@nestjs/common';
import { OperationController } from './operation.controller';
import { OperationRpcController } from './operation-rpc.controller';
import { OperationLog } from './operation-log.service';

@Module({ controllers: [OperationController, OperationRpcController], providers: [OperationLog], exports: [OperationLog] })
export class OperationModule {}
