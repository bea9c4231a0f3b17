import { isToken } from './common/identifiers';

/** Every subject is namespaced: `tessera.v1.<cluster>.<relative>` so clusters can share a NATS. */
export const SUBJECT_ROOT = 'tessera.v1';

export function clusterPrefix(cluster: string): string {
  if (!isToken(cluster)) throw new Error(`invalid cluster name "${cluster}"`);
  return `${SUBJECT_ROOT}.${cluster}`;
}

export function fullSubject(cluster: string, relative: string): string {
  return `${clusterPrefix(cluster)}.${relative}`;
}

/**
 * Relative subjects (`<service>.<aggregate>.<action>`); commands imperative, events past tense.
 * A trailing `*` token carries an identity that the handler checks against the payload.
 */
export const Subjects = {
  coordinator: {
    registerNode: 'coordinator.node.register',
    /** recovery → coordinator: re-place a dead node's replicas now (its grace delay is over). */
    replaceNode: 'coordinator.node.replace',
    getOperation: 'coordinator.operation.get',
  },
  health: {
    /** `health.node.heartbeat.<nodeId>`: fire-and-forget, never touches Postgres. */
    heartbeat: (nodeId: string) => `health.node.heartbeat.${nodeId}`,
    heartbeatPattern: 'health.node.heartbeat.*',
    listNodes: 'health.node.list',
  },
  consensus: {
    initializePartitions: 'consensus.partition.initialize',
    deletePartitions: 'consensus.partition.delete',
    electLeaders: 'consensus.partition.elect',
    queryPartitions: 'consensus.partition.query',
    alterIsr: 'consensus.partition.isr',
    reassignPartitions: 'consensus.partition.reassign',
    /** Leader moves in one request, committed together (a drain's handoff). */
    moveLeaders: 'consensus.partition.leader.moves',
    /** `consensus.node.roles.<nodeId>`: a node asks for its current roles (reconcile on start). */
    nodeRoles: (nodeId: string) => `consensus.node.roles.${nodeId}`,
    nodeRolesPattern: 'consensus.node.roles.*',
  },
  replication: {
    /** `replication.replica.report.<nodeId>`: a node reports its log positions. */
    report: (nodeId: string) => `replication.replica.report.${nodeId}`,
    reportPattern: 'replication.replica.report.*',
    listReplicas: 'replication.replica.list',
  },
  recovery: {
    listOperations: 'recovery.operation.list',
    /** coordinator → recovery: an operator changes a pending re-replication's grace delay. */
    updateOperation: 'recovery.operation.update',
  },
  node: {
    /** Commands to one data node: `node.<nodeId>.role.assign`. */
    assignRoles: (nodeId: string) => `node.${nodeId}.role.assign`,
  },
  replica: {
    /** `node.<leaderId>.replica.fetch`: a follower pulls a partition's log from its leader. */
    fetch: (leaderId: string) => `node.${leaderId}.replica.fetch`,
  },
  kv: {
    put: (resource: string, partition: number) => `kv.${resource}.${partition}.put`,
    get: (resource: string, partition: number) => `kv.${resource}.${partition}.get`,
  },
  events: {
    all: 'events.>',
    nodeState: 'events.node.state',
    partitionLeader: 'events.partition.leader',
    map: 'events.map',
    /** A large map version's changed entries, in chunks (see MapChangesEventV1). */
    mapChanges: 'events.map.changes',
    /** Internal: the coordinator announces a registration so health can track the node. */
    nodeRegistered: 'events.internal.node.registered',
    /** Internal: health announces a liveness change (the coordinator republishes node.state). */
    nodeLiveness: 'events.internal.node.liveness',
    /** Internal: consensus announces committed leader-and-ISR changes (batched). */
    partitionsChanged: 'events.internal.partitions.changed',
    /** Internal: the coordinator announces a resource's deletion. */
    resourceDeleted: 'events.internal.resource.deleted',
  },
} as const;

/** JetStream stream holding every event of a cluster (transport, not record: Postgres is). */
export function eventStreamName(cluster: string): string {
  return `TESSERA_${cluster.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_EVENTS`;
}
