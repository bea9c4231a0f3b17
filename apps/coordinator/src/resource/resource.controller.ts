import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  type RebalancePlanV1,
  type ResourceDeletedReplyV1,
  type ResourceDetailV1,
  type ResourceViewV1,
} from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { ApiErrorDto } from '../operation/api-error.dto';
import { PartitionCoordinator } from './partition-coordinator.service';
import {
  CreateResourceDto,
  RebalanceDto,
  RebalancePlanDto,
  ResourceDeletedDto,
  ResourceDetailDto,
  ResourceViewDto,
} from './resource.dto';

@ApiTags('resources')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/resources')
export class ResourceController {
  constructor(private readonly coordinator: PartitionCoordinator) {}

  @Get()
  @ApiOperation({ summary: 'Every resource' })
  @ApiOkResponse({ type: [ResourceViewDto] })
  list(): Promise<ResourceViewV1[]> {
    return this.coordinator.list();
  }

  @Post()
  @ApiOperation({ summary: 'Create a resource: place its partitions and elect first leaders (epoch 1)' })
  @ApiCreatedResponse({ type: ResourceViewDto })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'INVALID body, or UNSATISFIABLE placement (names the constraint)' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'CONFLICT: a resource with this name exists' })
  create(@Body() body: CreateResourceDto): Promise<ResourceViewV1> {
    return this.coordinator.create(body);
  }

  @Get(':name')
  @ApiOperation({ summary: 'A resource with its partitions and health counts' })
  @ApiOkResponse({ type: ResourceDetailDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  describe(@Param('name') name: string): Promise<ResourceDetailV1> {
    return this.coordinator.describe(name);
  }

  @Delete(':name')
  @ApiOperation({ summary: 'Delete a resource (its epochs are kept, so a re-created name never reuses one)' })
  @ApiOkResponse({ type: ResourceDeletedDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async delete(@Param('name') name: string): Promise<ResourceDeletedReplyV1> {
    await this.coordinator.delete(name);
    return { name, deleted: true };
  }

  @Post(':name/rebalance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Plan (dryRun) a rebalance of a resource: moves, steps, balance before and after' })
  @ApiOkResponse({ type: RebalancePlanDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto })
  rebalance(@Param('name') name: string, @Body() body: RebalanceDto): Promise<RebalancePlanV1> {
    return this.coordinator.rebalance(name, body.dryRun ?? false);
  }
}
