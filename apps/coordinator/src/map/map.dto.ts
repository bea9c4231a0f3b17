import { ApiProperty } from '@nestjs/swagger';
import { type MapResourceV1, type MapViewV1, type PartitionViewV1 } from '@tessera/contracts';

export class PartitionViewDto implements PartitionViewV1 {
  @ApiProperty({ example: 0 }) partition!: number;
  @ApiProperty({ example: ['kv-1', 'kv-2', 'kv-3'], description: 'preferred leader first' }) replicas!: string[];
  @ApiProperty({ example: 'kv-1', nullable: true, type: String }) leader!: string | null;
  @ApiProperty({ example: 1 }) epoch!: number;
  @ApiProperty({ example: ['kv-1', 'kv-2', 'kv-3'] }) isr!: string[];
}

export class MapResourceDto implements MapResourceV1 {
  @ApiProperty({ example: 'orders' }) name!: string;
  @ApiProperty({ example: 8 }) partitionCount!: number;
  @ApiProperty({ type: [PartitionViewDto] }) partitions!: PartitionViewDto[];
}

export class MapViewDto implements MapViewV1 {
  @ApiProperty({ example: 42 }) version!: number;
  @ApiProperty({ type: [MapResourceDto] }) resources!: MapResourceDto[];
}
