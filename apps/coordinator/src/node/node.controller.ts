import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type NodeAdminReplyV1, type NodeViewV1 } from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { MigrationDriver } from '../migration/migration-driver.service';
import { ApiErrorDto } from '../operation/api-error.dto';
import { NodeAdminReplyDto, NodeViewDto } from './node.dto';
import { NodeRegistry } from './node-registry.service';

@ApiTags('nodes')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/nodes')
export class NodeController {
  constructor(
    private readonly nodes: NodeRegistry,
    private readonly migrations: MigrationDriver,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every registered node with its state and last heartbeat' })
  @ApiOkResponse({ type: [NodeViewDto] })
  list(): Promise<NodeViewV1[]> {
    return this.nodes.list();
  }

  @Post(':id/drain')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Drain a node: leadership leaves it first, then its replicas move (make before break) until it is empty',
  })
  @ApiOkResponse({ type: NodeAdminReplyDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'another migration is moving these partitions' })
  async drain(@Param('id') id: string): Promise<NodeAdminReplyV1> {
    await this.nodes.get(id);
    const node = await this.nodes.setAdminState(id, 'DRAINING');
    return { node, operationId: await this.migrations.drain(id) };
  }

  @Post(':id/replace')
  @HttpCode(200)
  @ApiOperation({
    summary: "Re-place a node's replicas on other nodes now (overrides the grace delay, e.g. mid-incident)",
  })
  @ApiOkResponse({ type: NodeAdminReplyDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async replace(@Param('id') id: string): Promise<NodeAdminReplyV1> {
    const node = await this.nodes.get(id);
    return { node, operationId: await this.migrations.replace(id) };
  }

  @Post(':id/undrain')
  @HttpCode(200)
  @ApiOperation({ summary: 'Return a drained node to service' })
  @ApiOkResponse({ type: NodeAdminReplyDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async undrain(@Param('id') id: string): Promise<NodeAdminReplyV1> {
    return { node: await this.nodes.setAdminState(id, 'ACTIVE'), operationId: null };
  }
}
