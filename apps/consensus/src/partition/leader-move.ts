import { TesseraError } from '@tessera/contracts';
import { type LeaderAndIsr } from './election';

/**
 * A leadership handoff for one partition (preferred-leader election, drains): only to an
 * in-sync replica (CONFLICT otherwise), at leader epoch + 1 and partition epoch + 1. Returns the
 * next row, or null when the node leads already.
 */
export function planLeaderMove(
  current: LeaderAndIsr,
  req: { leader: string },
): LeaderAndIsr | null {
  if (current.leader === req.leader) return null;
  if (!current.isr.includes(req.leader)) {
    throw new TesseraError(
      'CONFLICT',
      `${req.leader} is not in sync for ${current.resource}/${current.partition}`,
    );
  }
  return {
    ...current,
    leader: req.leader,
    leaderEpoch: current.leaderEpoch + 1n,
    partitionEpoch: current.partitionEpoch + 1n,
  };
}
