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

/** A replica's position and the node that reported it: the row's key. */
export interface ReplicaKey {
  resource: string;
  partition: number;
}

/**
 * When a replica was last reported: its own write, or its node's last whole report while the node
 * still holds it (unchanged positions are not rewritten). Needs `p` and `n` (node_report) joined.
 */
const REPORTED_AT = `CASE WHEN p.held AND n.reported_at > p.reported_at THEN n.reported_at ELSE p.reported_at END`;
const WITH_NODE = `replication.replica_progress p LEFT JOIN replication.node_report n ON n.node_id = p.node_id`;

const isRole = (value: string): value is ReplicaRole =>
  (REPLICA_ROLES as readonly string[]).includes(value);

/** replication.replica_progress: one row per (resource, partition, node). */
@Injectable()
export class ReplicaProgressRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Writes what a report changed, in one transaction: `rows` (held again), `dropped` replicas (no
   * longer held: their age runs from their own last report), and for a whole report the node's
   * freshness, which every replica it holds shares. With `rewrite`, `rows` is the whole report
   * and every other held row of the node is dropped (after a restart, when nothing is cached).
   * A position from an older leader epoch than the stored one (a report overtaken by a newer
   * one) does not overwrite it: the epoch check is in the write.
   */
  async record(
    nodeId: string,
    change: {
      rows: readonly ProgressRow[];
      dropped: readonly ReplicaKey[];
      whole: boolean;
      rewrite: boolean;
    },
  ): Promise<void> {
    const { rows, dropped, whole, rewrite } = change;
    if (rows.length === 0 && dropped.length === 0 && !whole) return;
    await this.dataSource.transaction(async (m) => {
      if (rows.length > 0) await this.upsert(m, nodeId, rows);
      if (rewrite) {
        await m.query(
          `UPDATE replication.replica_progress AS p SET held = false
            WHERE p.node_id = $1 AND p.held
              AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::int[]) AS k(resource, partition)
                               WHERE k.resource = p.resource AND k.partition = p.partition)`,
          [nodeId, rows.map((r) => r.resource), rows.map((r) => r.partition)],
        );
      } else if (dropped.length > 0) {
        await m.query(
          `UPDATE replication.replica_progress AS p SET held = false
             FROM unnest($2::text[], $3::int[]) AS k(resource, partition)
            WHERE p.node_id = $1 AND p.resource = k.resource AND p.partition = k.partition`,
          [nodeId, dropped.map((k) => k.resource), dropped.map((k) => k.partition)],
        );
      }
      if (whole) {
        await m.query(
          `INSERT INTO replication.node_report (node_id, reported_at) VALUES ($1, now())
           ON CONFLICT (node_id) DO UPDATE SET reported_at = EXCLUDED.reported_at`,
          [nodeId],
        );
      }
    });
  }

  private async upsert(
    m: EntityManager,
    nodeId: string,
    rows: readonly ProgressRow[],
  ): Promise<void> {
    await m.query(
      `INSERT INTO replication.replica_progress AS p
              (resource, partition, node_id, role, leader_epoch, log_end_offset, high_watermark, reported_at, held)
       SELECT resource, partition, $1, role, leader_epoch, log_end_offset, high_watermark, now(), true
         FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
              AS t(resource, partition, role, leader_epoch, log_end_offset, high_watermark)
       ON CONFLICT (resource, partition, node_id) DO UPDATE
          SET role = EXCLUDED.role,
              leader_epoch = EXCLUDED.leader_epoch,
              log_end_offset = EXCLUDED.log_end_offset,
              high_watermark = EXCLUDED.high_watermark,
              reported_at = EXCLUDED.reported_at,
              held = true
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
    {
      resource: string;
      partition: number;
      node_id: string;
      role: string;
      leader_epoch: string;
      log_end_offset: string;
      high_watermark: string | null;
      age_ms: number;
    }[]
  > {
    return this.dataSource.query(
      `SELECT p.resource, p.partition, p.node_id, p.role, p.leader_epoch::text AS leader_epoch,
              p.log_end_offset::text AS log_end_offset, p.high_watermark::text AS high_watermark,
              (extract(epoch FROM now() - ${REPORTED_AT}) * 1000)::int AS age_ms
         FROM ${WITH_NODE}`,
    );
  }

  async list(resource?: string): Promise<StoredProgress[]> {
    const rows: ProgressRecord[] = await this.dataSource.query(
      `SELECT p.node_id, p.resource, p.partition, p.role, p.leader_epoch::text AS leader_epoch,
              p.log_end_offset::text AS log_end_offset, ${REPORTED_AT} AS reported_at
         FROM ${WITH_NODE}
        WHERE $1::text IS NULL OR p.resource = $1
        ORDER BY p.resource, p.partition, p.node_id`,
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
