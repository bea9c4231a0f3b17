import { Body, Controller, Get, Param, Patch, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import {
  MAX_GRACE_MS,
  OPERATION_KINDS,
  OPERATION_STATES,
  type OperationKind,
  type OperationState,
  type OperationV1,
} from '@tessera/contracts';
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
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'a pending re-replication: when it starts (the node’s death + its grace delay)',
  })
  dueAt?: string | null;
}

class UpdateOperationDto {
  @ApiProperty({
    example: 0,
    minimum: 0,
    maximum: MAX_GRACE_MS,
    description: 'a pending re-replication’s grace delay in ms, counted from the node’s death (0 starts it now)',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_MS)
  graceMs!: number;
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

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a pending re-replication’s grace delay (operators override it mid-incident)',
  })
  @ApiOkResponse({ type: OperationDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'the operation is not a pending re-replication' })
  update(@Param('id') id: string, @Body() body: UpdateOperationDto): Promise<OperationV1> {
    return this.operations.setGrace(id, body.graceMs);
  }
}
