import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ schema: 'coordinator', name: 'node' })
export class NodeEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) zone!: string;
  @Column({ type: 'text' }) rack!: string;
  @Column({ type: 'integer' }) capacity!: number;
  @Column({ type: 'text', array: true }) tags!: string[];
  @Column({ name: 'admin_state', type: 'text' }) adminState!: 'ACTIVE' | 'DRAINING' | 'LEFT';
  @Column({ type: 'text', nullable: true }) liveness!: 'ALIVE' | 'SUSPECT' | 'DEAD' | null;
  @Column({ type: 'bigint' }) incarnation!: string;
  @Column({ name: 'registered_at', type: 'timestamptz' }) registeredAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity({ schema: 'coordinator', name: 'resource' })
export class ResourceEntity {
  @PrimaryColumn({ type: 'text' }) name!: string;
  @Column({ type: 'integer' }) partitions!: number;
  @Column({ name: 'replication_factor', type: 'integer' }) replicationFactor!: number;
  @Column({ name: 'spread_by', type: 'text' }) spreadBy!: 'zone' | 'rack' | 'none';
  @Column({ name: 'require_tags', type: 'text', array: true }) requireTags!: string[];
  @Column({ type: 'text' }) state!: 'CREATING' | 'ACTIVE' | 'DELETING';
  @Column({ type: 'text', array: true }) warnings!: string[];
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ schema: 'coordinator', name: 'partition_map' })
export class PartitionMapEntity {
  @PrimaryColumn({ type: 'text' }) resource!: string;
  @PrimaryColumn({ type: 'integer' }) partition!: number;
  @Column({ type: 'text', array: true }) target!: string[];
  @Column({ type: 'text', array: true }) replicas!: string[];
  @Column({ type: 'text', nullable: true }) leader!: string | null;
  @Column({ name: 'leader_epoch', type: 'bigint' }) leaderEpoch!: string;
  @Column({ type: 'text', array: true }) isr!: string[];
  @Column({ name: 'partition_epoch', type: 'bigint' }) partitionEpoch!: string;
}

@Entity({ schema: 'coordinator', name: 'operation' })
export class CoordinatorOperationEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text' }) state!: string;
  @Column({ type: 'text' }) subject!: string;
  @Column({ type: 'integer' }) done!: number;
  @Column({ type: 'integer' }) total!: number;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'jsonb' }) detail!: Record<string, unknown>;
}

export const COORDINATOR_ENTITIES = [NodeEntity, ResourceEntity, PartitionMapEntity, CoordinatorOperationEntity];
