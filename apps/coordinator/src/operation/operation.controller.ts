import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { OPERATION_KINDS, OPERATION_STATES, type OperationKind, type OperationState, type OperationV1 } from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { ApiErrorDto } from './api-error.dto';
import { OperationLog } from './operation-log.service';

class ProgressDto {
  @ApiProperty() done!: number;
  @ApiProperty() total!: number;
}

class OperationDto implements OperationV1 {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: OPERATION_KINDS }) kind!: OperationKind;
  @ApiProperty({ enum: OPERATION_STATES }) state!: OperationState;
  @ApiProperty({ description: 'the resource or node it acts on' }) subject!: string;
  @ApiProperty({ type: ProgressDto }) progress!: ProgressDto;
  @ApiProperty() startedAt!: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}

@ApiTags('operations')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/operations')
export class OperationController {
  constructor(private readonly operations: OperationLog) {}

  @Get()
  @ApiOperation({ summary: 'Recent operations (creations, deletions, failovers) with progress' })
  @ApiOkResponse({ type: [OperationDto] })
  list(): Promise<OperationV1[]> {
    return this.operations.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One operation' })
  @ApiOkResponse({ type: OperationDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  get(@Param('id') id: string): Promise<OperationV1> {
    return this.operations.get(id);
  }
}
