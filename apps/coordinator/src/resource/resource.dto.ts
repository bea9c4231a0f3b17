import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  type CreateResourceBodyV1,
  MAX_PARTITIONS,
  MAX_REPLICATION_FACTOR,
  type PlacementRulesV1,
  type RebalancePlanV1,
  type ResourceDeletedReplyV1,
  type ResourceDetailV1,
  type ResourceViewV1,
  type SpreadBy,
  TOKEN_PATTERN,
  TOKEN_RULE,
} from '@tessera/contracts';
import { MapResourceDto } from '../map/map.dto';

export class PlacementRulesDto implements PlacementRulesV1 {
  @ApiPropertyOptional({ enum: ['zone', 'rack', 'none'], default: 'zone' })
  @IsOptional()
  @IsIn(['zone', 'rack', 'none'])
  spreadBy?: SpreadBy;

  @ApiPropertyOptional({ example: ['ssd'], description: 'every replica sits on nodes carrying all these tags' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(TOKEN_PATTERN, { each: true, message: `each tag must be ${TOKEN_RULE}` })
  requireTags?: string[];
}

export class CreateResourceDto implements CreateResourceBodyV1 {
  @ApiProperty({ example: 'orders', pattern: TOKEN_PATTERN.source })
  @Matches(TOKEN_PATTERN, { message: `name must be ${TOKEN_RULE}` })
  name!: string;

  @ApiProperty({ example: 64, minimum: 1, maximum: MAX_PARTITIONS })
  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitions!: number;

  @ApiProperty({ example: 3, minimum: 1, maximum: MAX_REPLICATION_FACTOR })
  @IsInt()
  @Min(1)
  @Max(MAX_REPLICATION_FACTOR)
  replicationFactor!: number;

  @ApiPropertyOptional({ type: PlacementRulesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => PlacementRulesDto)
  placement?: PlacementRulesDto;
}

export class RebalanceDto {
  @ApiPropertyOptional({ default: false, description: 'compute and return the plan without changing anything' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

class PlacementViewDto {
  @ApiProperty({ enum: ['zone', 'rack', 'none'] }) spreadBy!: SpreadBy;
  @ApiProperty({ example: [] }) requireTags!: string[];
}

export class ResourceViewDto implements ResourceViewV1 {
  @ApiProperty({ example: 'orders' }) name!: string;
  @ApiProperty({ example: 64 }) partitions!: number;
  @ApiProperty({ example: 3 }) replicationFactor!: number;
  @ApiProperty({ type: PlacementViewDto }) placement!: PlacementViewDto;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ example: [] }) warnings!: string[];
}

export class ResourceDetailDto extends ResourceViewDto implements ResourceDetailV1 {
  @ApiProperty({ enum: ['CREATING', 'ACTIVE', 'DELETING'] }) state!: 'CREATING' | 'ACTIVE' | 'DELETING';
  @ApiProperty() partitionsLed!: number;
  @ApiProperty() underReplicated!: number;
  @ApiProperty() offline!: number;
  @ApiProperty({ type: MapResourceDto }) map!: MapResourceDto;
}

export class ResourceDeletedDto implements ResourceDeletedReplyV1 {
  @ApiProperty({ example: 'orders' }) name!: string;
  @ApiProperty({ example: true }) deleted!: true;
}

class BalanceDto {
  @ApiProperty({ example: 1.0 }) replicasMaxOverMean!: number;
  @ApiProperty({ example: 1.0 }) leadersMaxOverMean!: number;
}

class PlanStepDto {
  @ApiProperty() partition!: number;
  @ApiProperty({ enum: ['ADD_REPLICA', 'WAIT_IN_SYNC', 'MOVE_LEADERSHIP', 'REMOVE_REPLICA'] })
  kind!: 'ADD_REPLICA' | 'WAIT_IN_SYNC' | 'MOVE_LEADERSHIP' | 'REMOVE_REPLICA';
  @ApiProperty() node!: string;
  @ApiPropertyOptional() from?: string;
}

export class RebalancePlanDto implements RebalancePlanV1 {
  @ApiProperty() resource!: string;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty() moves!: number;
  @ApiProperty() leaderMoves!: number;
  @ApiProperty({ type: [PlanStepDto] }) steps!: PlanStepDto[];
  @ApiProperty({ type: BalanceDto }) before!: BalanceDto;
  @ApiProperty({ type: BalanceDto }) after!: BalanceDto;
  @ApiProperty() warnings!: string[];
  @ApiProperty({ nullable: true, type: String }) operationId!: string | null;
}
