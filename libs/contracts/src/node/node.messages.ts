import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { TOKEN_PATTERN, TOKEN_RULE } from '../common/identifiers';
import { type LivenessState } from '../common/states';

/** A data node registers with the coordinator: `coordinator.node.register`. */
export class RegisterNodeRequestV1 {
  @Matches(TOKEN_PATTERN, { message: `nodeId must be ${TOKEN_RULE}` })
  nodeId!: string;

  @Matches(TOKEN_PATTERN, { message: `zone must be ${TOKEN_RULE}` })
  zone!: string;

  @Matches(TOKEN_PATTERN, { message: `rack must be ${TOKEN_RULE}` })
  rack!: string;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  capacity!: number;

  @IsArray()
  @ArrayMaxSize(32)
  @Matches(TOKEN_PATTERN, { each: true, message: `each tag must be ${TOKEN_RULE}` })
  tags!: string[];
}

export interface RegisterNodeReplyV1 {
  nodeId: string;
  /** How often the node must heartbeat to health. */
  heartbeatIntervalMs: number;
  /** The node's session incarnation: grows at every registration. */
  incarnation: number;
}

/** `health.node.heartbeat.<nodeId>`: the node id in the subject must equal the payload's. */
export class HeartbeatV1 {
  @Matches(TOKEN_PATTERN)
  nodeId!: string;

  @IsInt()
  @Min(0)
  incarnation!: number;

  @IsInt()
  @Min(0)
  seq!: number;

  @IsISO8601()
  sentAt!: string;
}

export class ListNodesRequestV1 {
  @IsOptional()
  @IsString()
  nodeId?: string;
}

export interface NodeLivenessV1 {
  nodeId: string;
  state: LivenessState;
  lastHeartbeatAt: string | null;
  phi: number | null;
}

export interface ListNodesReplyV1 {
  nodes: NodeLivenessV1[];
}


/** `coordinator.node.replace`: start (or find) the migration that moves a node's replicas away. */
export class ReplaceNodeRequestV1 {
  @Matches(TOKEN_PATTERN)
  nodeId!: string;
}

export interface ReplaceNodeReplyV1 {
  nodeId: string;
  /** The migration's operation id; null when the node held nothing. */
  operationId: string | null;
}
