import { ApiProperty } from '@nestjs/swagger';
import { NODE_STATES, type NodeAdminReplyV1, type NodeState, type NodeViewV1 } from '@tessera/contracts';

export class NodeViewDto implements NodeViewV1 {
  @ApiProperty({ example: 'kv-1' }) id!: string;
  @ApiProperty({ example: 'z1' }) zone!: string;
  @ApiProperty({ example: 'r1' }) rack!: string;
  @ApiProperty({ example: 1 }) capacity!: number;
  @ApiProperty({ example: ['ssd'] }) tags!: string[];
  @ApiProperty({ enum: NODE_STATES, example: 'ALIVE' }) state!: NodeState;
  @ApiProperty({ example: '2026-11-26T05:30:00.000Z', nullable: true, type: String }) lastHeartbeatAt!: string | null;
}

export class NodeAdminReplyDto implements NodeAdminReplyV1 {
  @ApiProperty({ type: NodeViewDto }) node!: NodeViewDto;
  @ApiProperty({ nullable: true, type: String }) operationId!: string | null;
}
