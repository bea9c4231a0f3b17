import { type ReplicaProgressV1, type ReplicaRole } from '@tessera/contracts';

/** A replica_progress row as read back (bigint columns as decimal strings). */
export interface StoredProgress {
  nodeId: string;
  resource: string;
  partition: number;
  role: ReplicaRole;
  leaderEpoch: string;
  logEndOffset: string;
  reportedAt: Date;
}

const keyOf = (r: { resource: string; partition: number }) => `${r.resource}\u0000${r.partition}`;

/**
 * The leader of each partition as replicas report it: the LEADER row with the highest leader
 * epoch (a deposed leader that has not reported since keeps an older epoch), the newest report
 * breaking ties.
 */
export function leadersOf(rows: readonly StoredProgress[]): Map<string, StoredProgress> {
  const leaders = new Map<string, StoredProgress>();
  for (const row of rows) {
    if (row.role !== 'LEADER') continue;
    const key = keyOf(row);
    const current = leaders.get(key);
    if (
      current === undefined ||
      BigInt(row.leaderEpoch) > BigInt(current.leaderEpoch) ||
      (BigInt(row.leaderEpoch) === BigInt(current.leaderEpoch) &&
        row.reportedAt > current.reportedAt)
    ) {
      leaders.set(key, row);
    }
  }
  return leaders;
}

/**
 * lag = the leader's log end offset − the replica's, never below 0 (a follower can report after
 * the leader did and look ahead of it); null when no leader of the partition has reported.
 */
export function withLag(rows: readonly StoredProgress[]): ReplicaProgressV1[] {
  const leaders = leadersOf(rows);
  return rows.map((row) => {
    const leader = leaders.get(keyOf(row));
    const lag =
      leader === undefined
        ? null
        : Math.max(0, Number(BigInt(leader.logEndOffset) - BigInt(row.logEndOffset)));
    return {
      nodeId: row.nodeId,
      resource: row.resource,
      partition: row.partition,
      role: row.role,
      leaderEpoch: row.leaderEpoch,
      logEndOffset: Number(row.logEndOffset),
      lag,
      reportedAt: row.reportedAt.toISOString(),
    };
  });
}
