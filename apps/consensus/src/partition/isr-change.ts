import { TesseraError } from '@tessera/contracts';
import { type LeaderAndIsr } from './election';

/**
 * AlterPartition for one partition: the ISR a proposer asks for, checked against the row as
 * committed. Compare-and-set on the partition epoch the proposer saw (CONFLICT otherwise); the
 * leader stays in the ISR and every member is a replica (INVALID otherwise). Returns the next row
 * (partition epoch + 1, ISR in the replicas' preferred order), or null when nothing changes.
 */
export function planIsrChange(
  current: LeaderAndIsr,
  req: { isr: readonly string[]; partitionEpoch: string },
): LeaderAndIsr | null {
  if (current.partitionEpoch.toString() !== req.partitionEpoch) {
    throw new TesseraError('CONFLICT', `partition epoch is ${current.partitionEpoch}, not ${req.partitionEpoch}`);
  }
  if (current.leader === null) throw new TesseraError('CONFLICT', 'the partition is offline: elect a leader first');
  if (!req.isr.includes(current.leader)) throw new TesseraError('INVALID', `the leader ${current.leader} must stay in the ISR`);
  const outsider = req.isr.find((n) => !current.replicas.includes(n));
  if (outsider) throw new TesseraError('INVALID', `${outsider} is not a replica of this partition`);
  if (new Set(req.isr).size !== req.isr.length) throw new TesseraError('INVALID', 'ISR members must be distinct');
  const isr = current.replicas.filter((n) => req.isr.includes(n)); // keep the preferred order
  if (isr.join() === current.isr.join()) return null;
  return { ...current, isr, partitionEpoch: current.partitionEpoch + 1n };
}
