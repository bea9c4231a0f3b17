import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { REPLICA_ROLES, type ReplicaRole } from '@tessera/contracts';
import { type StoredProgress } from './replica-lag';
import { type ProgressRow } from './report-rows';

interface ProgressRecord {
  node_id: string;
  resource: string;
  partition: number;
  role: string;
  leader_epoch: string;
  log_end_offset: string;
  reported_at: Date;
}

const isRole = (value: string): value is ReplicaRole =>
  (REPLICA_ROLES as readonly string[]).includes(value);

/** replication.replica_progress: one row per (resource, partition, node). */
@Injectable()
export class ReplicaProgressRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement for a whole report. A position from an older leader epoch than the stored one
   * (a report overtaken by a newer one) does not overwrite it: the epoch check is in the write.
   */
  async upsert(nodeId: string, rows: readonly ProgressRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO replication.replica_progress AS p
              (resource, partition, node_id, role, leader_epoch, log_end_offset, high_watermark, reported_at)
       SELECT resource, partition, $1, role, leader_epoch, log_end_offset, high_watermark, now()
         FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
              AS t(resource, partition, role, leader_epoch, log_end_offset, high_watermark)
       ON CONFLICT (resource, partition, node_id) DO UPDATE
          SET role = EXCLUDED.role,
              leader_epoch = EXCLUDED.leader_epoch,
              log_end_offset = EXCLUDED.log_end_offset,
              high_watermark = EXCLUDED.high_watermark,
              reported_at = EXCLUDED.reported_at
        WHERE p.leader_epoch <= EXCLUDED.leader_epoch`,
      [
        nodeId,
        rows.map((r) => r.resource),
        rows.map((r) => r.partition),
        rows.map((r) => r.role),
        rows.map((r) => r.leaderEpoch),
        rows.map((r) => String(r.logEndOffset)),
        rows.map((r) => (r.highWatermark === null ? null : String(r.highWatermark))),
      ],
    );
  }

  /** Every replica's last report with its age, for the ISR decisions. */
  async seen(): Promise<
    { resource: string; partition: number; node_id: string; role: string; leader_epoch: string; log_end_offset: string; high_watermark: string | null; age_ms: number }[]
  > {
    return this.dataSource.query(
      `SELECT resource, partition, node_id, role, leader_epoch::text AS leader_epoch,
              log_end_offset::text AS log_end_offset, high_watermark::text AS high_watermark,
              (extract(epoch FROM now() - reported_at) * 1000)::int AS age_ms
         FROM replication.replica_progress`,
    );
  }

  async list(resource?: string): Promise<StoredProgress[]> {
    const rows: ProgressRecord[] = await this.dataSource.query(
      `SELECT node_id, resource, partition, role, leader_epoch::text AS leader_epoch,
              log_end_offset::text AS log_end_offset, reported_at
         FROM replication.replica_progress
        WHERE $1::text IS NULL OR resource = $1
        ORDER BY resource, partition, node_id`,
      [resource ?? null],
    );
    return rows.flatMap((r) =>
      isRole(r.role)
        ? [
            {
              nodeId: r.node_id,
              resource: r.resource,
              partition: r.partition,
              role: r.role,
              leaderEpoch: r.leader_epoch,
              logEndOffset: r.log_end_offset,
              reportedAt: r.reported_at,
            },
          ]
        : [],
    );
  }

  /** The largest lag of any replica, by the same leader rule as `withLag`, computed in Postgres. */
  async maxLag(): Promise<number> {
    const rows: { max_lag: string }[] = await this.dataSource.query(
      `WITH leaders AS (
         SELECT DISTINCT ON (resource, partition) resource, partition, log_end_offset
           FROM replication.replica_progress
          WHERE role = 'LEADER'
          ORDER BY resource, partition, leader_epoch DESC, reported_at DESC)
       SELECT COALESCE(max(GREATEST(l.log_end_offset - p.log_end_offset, 0)), 0)::text AS max_lag
         FROM replication.replica_progress p JOIN leaders l USING (resource, partition)`,
    );
    return Number(rows[0]?.max_lag ?? 0);
  }

  async deleteResource(manager: EntityManager, resource: string): Promise<number> {
    const result: [unknown[], number] = await manager.query(
      `DELETE FROM replication.replica_progress WHERE resource = $1`,
      [resource],
    );
    return result[1];
  }
}
