import { type ErrorReplyV1, type OkReply } from './common/errors';
import {
  type KvGetReplyV1,
  type KvGetRequestV1,
  type KvPutReplyV1,
  type KvPutRequestV1,
} from './kv/kv.messages';
import {
  type ListNodesReplyV1,
  type ListNodesRequestV1,
  type RegisterNodeReplyV1,
  type RegisterNodeRequestV1,
  type ReplaceNodeReplyV1,
  type ReplaceNodeRequestV1,
} from './node/node.messages';
import {
  type GetOperationReplyV1,
  type GetOperationRequestV1,
  type ListOperationsReplyV1,
  type ListOperationsRequestV1,
  type UpdateOperationReplyV1,
  type UpdateOperationRequestV1,
} from './operations/operations.messages';
import {
  type AlterIsrReplyV1,
  type AlterIsrRequestV1,
  type AssignRolesCommandV1,
  type AssignRolesReplyV1,
  type DeletePartitionsReplyV1,
  type DeletePartitionsRequestV1,
  type ElectLeadersReplyV1,
  type ElectLeadersRequestV1,
  type InitializePartitionsReplyV1,
  type MoveLeadersReplyV1,
  type MoveLeadersRequestV1,
  type InitializePartitionsRequestV1,
  type NodeRolesReplyV1,
  type NodeRolesRequestV1,
  type QueryPartitionsReplyV1,
  type QueryPartitionsRequestV1,
  type ReassignPartitionsReplyV1,
  type ReassignPartitionsRequestV1,
} from './partition/partition.messages';
import {
  type ListReplicasReplyV1,
  type ListReplicasRequestV1,
} from './replication/replication.messages';

/**
 * Request/reply pairs by subject family, so a typed `request()` cannot pair the wrong types.
 * Keys are the relative subject (or its family name for subjects carrying an identity).
 */
export interface RequestMap {
  'coordinator.node.register': [RegisterNodeRequestV1, RegisterNodeReplyV1];
  'coordinator.node.replace': [ReplaceNodeRequestV1, ReplaceNodeReplyV1];
  'coordinator.operation.get': [GetOperationRequestV1, GetOperationReplyV1];
  'health.node.list': [ListNodesRequestV1, ListNodesReplyV1];
  'consensus.partition.initialize': [InitializePartitionsRequestV1, InitializePartitionsReplyV1];
  'consensus.partition.delete': [DeletePartitionsRequestV1, DeletePartitionsReplyV1];
  'consensus.partition.elect': [ElectLeadersRequestV1, ElectLeadersReplyV1];
  'consensus.partition.query': [QueryPartitionsRequestV1, QueryPartitionsReplyV1];
  'consensus.node.roles': [NodeRolesRequestV1, NodeRolesReplyV1];
  'consensus.partition.isr': [AlterIsrRequestV1, AlterIsrReplyV1];
  'consensus.partition.reassign': [ReassignPartitionsRequestV1, ReassignPartitionsReplyV1];
  'consensus.partition.leader.moves': [MoveLeadersRequestV1, MoveLeadersReplyV1];
  'replication.replica.list': [ListReplicasRequestV1, ListReplicasReplyV1];
  'recovery.operation.list': [ListOperationsRequestV1, ListOperationsReplyV1];
  'recovery.operation.update': [UpdateOperationRequestV1, UpdateOperationReplyV1];
  'node.role.assign': [AssignRolesCommandV1, AssignRolesReplyV1];
  'kv.put': [KvPutRequestV1, KvPutReplyV1];
  'kv.get': [KvGetRequestV1, KvGetReplyV1];
}

export type RequestKind = keyof RequestMap;
export type RequestOf<K extends RequestKind> = RequestMap[K][0];
export type ReplyOf<K extends RequestKind> = RequestMap[K][1];
export type WireReplyOf<K extends RequestKind> = OkReply<ReplyOf<K>> | ErrorReplyV1;
