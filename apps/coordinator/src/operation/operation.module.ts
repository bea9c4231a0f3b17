import { Module } from '@nestjs/common';
import { OperationController } from './operation.controller';
import { OperationLog } from './operation-log.service';

@Module({ controllers: [OperationController], providers: [OperationLog], exports: [OperationLog] })
export class OperationModule {}
