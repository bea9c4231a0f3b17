import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type NodeAdminReplyV1, type NodeViewV1 } from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { ApiErrorDto } from '../operation/api-error.dto';
import { NodeAdminReplyDto, NodeViewDto } from './node.dto';
import { NodeRegistry } from './node-registry.service';

@ApiTags('nodes')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/nodes')
export class NodeController {
  constructor(private readonly nodes: NodeRegistry) {}

  @Get()
  @ApiOperation({ summary: 'Every registered node with its state and last heartbeat' })
  @ApiOkResponse({ type: [NodeViewDto] })
  list(): Promise<NodeViewV1[]> {
    return this.nodes.list();
  }

  @Post(':id/drain')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a node DRAINING: it gets no new replicas' })
  @ApiOkResponse({ type: NodeAdminReplyDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async drain(@Param('id') id: string): Promise<NodeAdminReplyV1> {
    return { node: await this.nodes.setAdminState(id, 'DRAINING'), operationId: null };
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
