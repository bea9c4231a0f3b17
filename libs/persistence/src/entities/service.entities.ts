import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ schema: 'health', name: 'node_liveness' })
export class NodeLivenessEntity {
  @PrimaryColumn({ name: 'node_id', type: 'text' }) nodeId!: string;
  @Column({ type: 'text' }) state!: 'ALIVE' | 'SUSPECT' | 'DEAD';
  @Column({ type: 'bigint' }) incarnation!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
}

@Entity({ schema: 'consensus', name: 'partition_state' })
export class PartitionStateEntity {
  @PrimaryColumn({ type: 'text' }) resource!: string;
  @PrimaryColumn({ type: 'integer' }) partition!: number;
  @Column({ name: 'partition_count', type: 'integer' }) partitionCount!: number;
  @Column({ type: 'text', array: true }) replicas!: string[];
  @Column({ type: 'text', nullable: true }) leader!: string | null;
  @Column({ name: 'leader_epoch', type: 'bigint' }) leaderEpoch!: string;
  @Column({ type: 'text', array: true }) isr!: string[];
  @Column({ name: 'partition_epoch', type: 'bigint' }) partitionEpoch!: string;
  /** The leader epoch the partition was created at (0: created before this was kept). */
  @Column({ name: 'created_epoch', type: 'bigint', default: 0 }) createdEpoch!: string;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity({ schema: 'replication', name: 'replica_progress' })
export class ReplicaProgressEntity {
  @PrimaryColumn({ type: 'text' }) resource!: string;
  @PrimaryColumn({ type: 'integer' }) partition!: number;
  @PrimaryColumn({ name: 'node_id', type: 'text' }) nodeId!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ name: 'leader_epoch', type: 'bigint' }) leaderEpoch!: string;
  @Column({ name: 'log_end_offset', type: 'bigint' }) logEndOffset!: string;
  @Column({ name: 'high_watermark', type: 'bigint', nullable: true }) highWatermark!: string | null;
  @Column({ name: 'reported_at', type: 'timestamptz' }) reportedAt!: Date;
  @Column({ type: 'boolean', default: true }) held!: boolean;
}

/** A node's last whole replica report: the freshness of every replica it holds. */
@Entity({ schema: 'replication', name: 'node_report' })
export class NodeReportEntity {
  @PrimaryColumn({ name: 'node_id', type: 'text' }) nodeId!: string;
  @Column({ name: 'reported_at', type: 'timestamptz' }) reportedAt!: Date;
}

@Entity({ schema: 'recovery', name: 'operation' })
export class RecoveryOperationEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ name: 'node_id', type: 'text' }) nodeId!: string;
  @Column({ type: 'integer' }) done!: number;
  @Column({ type: 'integer' }) total!: number;
  @Column({ type: 'jsonb' }) steps!: unknown[];
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ name: 'due_at', type: 'timestamptz', nullable: true }) dueAt!: Date | null;
}

export const HEALTH_ENTITIES = [NodeLivenessEntity];
export const CONSENSUS_ENTITIES = [PartitionStateEntity];
export const REPLICATION_ENTITIES = [ReplicaProgressEntity, NodeReportEntity];
export const RECOVERY_ENTITIES = [RecoveryOperationEntity];
