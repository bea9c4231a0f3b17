/** The leader-and-ISR row as the election logic sees it (epochs as bigint). */
export interface LeaderAndIsr {
  resource: string;
  partition: number;
  replicas: string[];
  leader: string | null;
  leaderEpoch: bigint;
  isr: string[];
  partitionEpoch: bigint;
}

export type ElectionOutcome = 'UNCHANGED' | 'ISR_SHRUNK' | 'ELECTED' | 'OFFLINE';

export interface ElectionResult {
  outcome: ElectionOutcome;
  next: LeaderAndIsr;
}

/**
 * Chooses leader and ISR for one partition when some nodes are unavailable. Clean elections
 * only: a new leader always comes from the ISR, so it holds every acknowledged write. The
 * preferred order (replicas, preferred leader first) breaks ties.
 * - live leader: keeps leading; unavailable members leave the ISR (it can't acknowledge).
 * - leader unavailable or none: the preferred replica leads if it is in sync, else the least-loaded
 *   available ISR member; epoch + 1.
 * - no available ISR member: offline (leader null, epoch+1 to fence the old leader); the ISR is
 *   kept as it was, so the partition comes back cleanly when one of them returns.
 */
export function electLeader(
  row: LeaderAndIsr,
  unavailable: ReadonlySet<string>,
  /** Leaders per node, kept up to date by the caller across a batch (spreads failover load). */
  load?: Map<string, number>,
): ElectionResult {
  const availableIsr = row.isr.filter((n) => !unavailable.has(n));
  const leaderAlive =
    row.leader !== null && !unavailable.has(row.leader) && row.isr.includes(row.leader);

  if (leaderAlive) {
    if (availableIsr.length === row.isr.length) return { outcome: 'UNCHANGED', next: row };
    return {
      outcome: 'ISR_SHRUNK',
      next: { ...row, isr: availableIsr, partitionEpoch: row.partitionEpoch + 1n },
    };
  }

  if (availableIsr.length > 0) {
    const rank = (n: string) => {
      const i = row.replicas.indexOf(n);
      return i === -1 ? Number.MAX_SAFE_INTEGER : i;
    };
    // The preferred leader when it can; otherwise the least-loaded in-sync replica, so a dead
    // node's leaderships spread over the survivors instead of piling on the next in line.
    const preferred = row.replicas[0];
    const leader =
      preferred !== undefined && availableIsr.includes(preferred)
        ? preferred
        : [...availableIsr].sort(
            (a, b) => (load?.get(a) ?? 0) - (load?.get(b) ?? 0) || rank(a) - rank(b),
          )[0];
    if (load) {
      load.set(leader, (load.get(leader) ?? 0) + 1);
      if (row.leader !== null) load.set(row.leader, Math.max(0, (load.get(row.leader) ?? 0) - 1));
    }
    return {
      outcome: 'ELECTED',
      next: {
        ...row,
        leader,
        leaderEpoch: row.leaderEpoch + 1n,
        isr: availableIsr,
        partitionEpoch: row.partitionEpoch + 1n,
      },
    };
  }

  if (row.leader === null) return { outcome: 'UNCHANGED', next: row };
  return {
    outcome: 'OFFLINE',
    next: {
      ...row,
      leader: null,
      leaderEpoch: row.leaderEpoch + 1n,
      partitionEpoch: row.partitionEpoch + 1n,
    },
  };
}
