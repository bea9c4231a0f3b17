import { type ReplicaReportV1, type ReplicaRole, TesseraError } from '@tessera/contracts';

/** Postgres bigint's upper bound: epochs and offsets beyond it cannot be stored. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** One replica's position as written to replication.replica_progress. */
export interface ProgressRow {
  resource: string;
  partition: number;
  role: ReplicaRole;
  leaderEpoch: string;
  logEndOffset: number;
  highWatermark: number | null;
}

/**
 * Turns a validated report into rows for one batched upsert: a replica listed twice keeps its
 * last position (one statement cannot update a row twice), and values Postgres cannot hold are
 * refused as INVALID before anything is written.
 */
export function reportRows(report: ReplicaReportV1): ProgressRow[] {
  const byReplica = new Map<string, ProgressRow>();
  for (const r of report.replicas) {
    if (BigInt(r.leaderEpoch) > MAX_BIGINT) {
      throw new TesseraError(
        'INVALID',
        `replicas: leaderEpoch of ${r.resource}/${r.partition} is out of range`,
      );
    }
    if (!Number.isSafeInteger(r.logEndOffset)) {
      throw new TesseraError(
        'INVALID',
        `replicas: logEndOffset of ${r.resource}/${r.partition} is out of range`,
      );
    }
    // The contract allows a null high watermark (absent, as @IsOptional reads it).
    if (r.highWatermark !== undefined && r.highWatermark !== null && !Number.isSafeInteger(r.highWatermark)) {
      throw new TesseraError(
        'INVALID',
        `replicas: highWatermark of ${r.resource}/${r.partition} is out of range`,
      );
    }
    const key = `${r.resource}\u0000${r.partition}`;
    byReplica.delete(key); // keep the last occurrence, in report order
    byReplica.set(key, {
      resource: r.resource,
      partition: r.partition,
      role: r.role,
      leaderEpoch: BigInt(r.leaderEpoch).toString(),
      logEndOffset: r.logEndOffset,
      highWatermark: r.highWatermark ?? null,
    });
  }
  return [...byReplica.values()];
}
