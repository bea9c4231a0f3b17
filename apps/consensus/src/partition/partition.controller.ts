import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  AlterIsrRequestV1,
  type AlterIsrReplyV1,
  MoveLeadersRequestV1,
  type MoveLeadersReplyV1,
  ReassignPartitionsRequestV1,
  type ReassignPartitionsReplyV1,
  DeletePartitionsRequestV1,
  type DeletePartitionsReplyV1,
  ElectLeadersRequestV1,
  type ElectLeadersReplyV1,
  InitializePartitionsRequestV1,
  type InitializePartitionsReplyV1,
  NodeRolesRequestV1,
  type NodeRolesReplyV1,
  QueryPartitionsRequestV1,
  type QueryPartitionsReplyV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { TesseraRpcContext } from '@tessera/messaging';
import { ConsensusManager } from './consensus-manager.service';

/** NATS commands and queries of consensus; validation happens in the global contract pipe. */
@Controller()
export class PartitionController {
  constructor(private readonly consensus: ConsensusManager) {}

  @MessagePattern(Subjects.consensus.initializePartitions)
  async initialize(@Payload() req: InitializePartitionsRequestV1): Promise<InitializePartitionsReplyV1> {
    const { created } = await this.consensus.initialize(req.resource, req.replicas);
    return { resource: req.resource, created };
  }

  @MessagePattern(Subjects.consensus.deletePartitions)
  async delete(@Payload() req: DeletePartitionsRequestV1): Promise<DeletePartitionsReplyV1> {
    const { deleted } = await this.consensus.delete(req.resource);
    return { resource: req.resource, deleted };
  }

  @MessagePattern(Subjects.consensus.electLeaders)
  elect(@Payload() req: ElectLeadersRequestV1): Promise<ElectLeadersReplyV1> {
    return this.consensus.elect(req);
  }

  @MessagePattern(Subjects.consensus.queryPartitions)
  async query(@Payload() req: QueryPartitionsRequestV1): Promise<QueryPartitionsReplyV1> {
    return this.consensus.query(req);
  }

  @MessagePattern(Subjects.consensus.alterIsr)
  async alterIsr(@Payload() req: AlterIsrRequestV1): Promise<AlterIsrReplyV1> {
    return { state: await this.consensus.alterIsr(req) };
  }

  @MessagePattern(Subjects.consensus.reassignPartitions)
  reassign(@Payload() req: ReassignPartitionsRequestV1): Promise<ReassignPartitionsReplyV1> {
    return this.consensus.reassign(req);
  }

  @MessagePattern(Subjects.consensus.moveLeaders)
  async moveLeaders(@Payload() req: MoveLeadersRequestV1): Promise<MoveLeadersReplyV1> {
    return { results: await this.consensus.moveLeaders(req.moves) };
  }

  @MessagePattern(Subjects.consensus.nodeRolesPattern)
  async roles(@Payload() req: NodeRolesRequestV1, @Ctx() ctx: TesseraRpcContext): Promise<NodeRolesReplyV1> {
    if (ctx.getSubjectIdentity() !== req.nodeId) {
      throw new TesseraError('FORBIDDEN', 'a node may only ask for its own roles');
    }
    return this.consensus.rolesFor(req.nodeId, req);
  }
}
