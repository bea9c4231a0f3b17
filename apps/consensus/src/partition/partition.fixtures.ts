import { TesseraError } from '@tessera/contracts';
import { type LeaderAndIsr } from './election';

/** A committed row for the pure planners' tests: orders/0, leader a at epoch 5, ISR a, b. */
export const row = (over: Partial<LeaderAndIsr> = {}): LeaderAndIsr => ({
  resource: 'orders',
  partition: 0,
  replicas: ['a', 'b', 'c'],
  leader: 'a',
  leaderEpoch: 5n,
  isr: ['a', 'b'],
  partitionEpoch: 9n,
  ...over,
});

/** The code of the TesseraError `fn` throws, or undefined when it returns. */
export const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof TesseraError ? error.code : 'not a TesseraError';
  }
  return undefined;
};
