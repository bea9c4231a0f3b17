import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { leaseDdl, outboxAndInboxDdl } from './outbox.sql';

/** Coordinator: nodes, resources, target assignments with the map projection, operations. */
export class InitCoordinator1764130000000 implements MigrationInterface {
  name = 'InitCoordinator1764130000000';

  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS coordinator`,
      `CREATE TABLE coordinator.node (
        id text PRIMARY KEY,
        zone text NOT NULL,
        rack text NOT NULL,
        capacity integer NOT NULL CHECK (capacity > 0),
        tags text[] NOT NULL DEFAULT '{}',
        admin_state text NOT NULL DEFAULT 'ACTIVE' CHECK (admin_state IN ('ACTIVE','DRAINING','LEFT')),
        liveness text NULL CHECK (liveness IN ('ALIVE','SUSPECT','DEAD')),
        incarnation bigint NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE coordinator.resource (
        name text PRIMARY KEY,
        partitions integer NOT NULL CHECK (partitions > 0),
        replication_factor integer NOT NULL CHECK (replication_factor > 0),
        spread_by text NOT NULL DEFAULT 'zone' CHECK (spread_by IN ('zone','rack','none')),
        require_tags text[] NOT NULL DEFAULT '{}',
        state text NOT NULL DEFAULT 'CREATING' CHECK (state IN ('CREATING','ACTIVE','DELETING')),
        warnings text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      // target: the coordinator's intended replicas (preferred leader first); replicas, leader,
      // isr, epochs: the projection of what consensus committed (they differ mid-migration).
      `CREATE TABLE coordinator.partition_map (
        resource text NOT NULL REFERENCES coordinator.resource(name) ON DELETE CASCADE,
        partition integer NOT NULL,
        target text[] NOT NULL,
        replicas text[] NOT NULL,
        leader text NULL,
        leader_epoch bigint NOT NULL DEFAULT 0,
        isr text[] NOT NULL DEFAULT '{}',
        partition_epoch bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (resource, partition)
      )`,
      `CREATE INDEX ix_coordinator_partition_map_leader ON coordinator.partition_map (leader)`,
      `CREATE TABLE coordinator.map_version (
        id smallint PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
      )`,
      `INSERT INTO coordinator.map_version (id, version) VALUES (1, 0)`,
      `CREATE TABLE coordinator.operation (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        state text NOT NULL,
        subject text NOT NULL,
        done integer NOT NULL DEFAULT 0,
        total integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz NULL,
        error text NULL,
        detail jsonb NOT NULL DEFAULT '{}'
      )`,
      `CREATE INDEX ix_coordinator_operation_started ON coordinator.operation (started_at DESC)`,
      ...outboxAndInboxDdl('coordinator'),
      ...leaseDdl('coordinator'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA IF EXISTS coordinator CASCADE`);
  }
}
