import { TesseraError } from '@tessera/contracts';
import { type LeaderAndIsr } from './election';
import { planLeaderMove } from './leader-move';

const row = (over: Partial<LeaderAndIsr> = {}): LeaderAndIsr => ({
  resource: 'orders',
  partition: 3,
  replicas: ['a', 'b', 'c'],
  leader: 'a',
  leaderEpoch: 5n,
  isr: ['a', 'b'],
  partitionEpoch: 9n,
  ...over,
});

describe(planLeaderMove.name, () => {
  it('hands leadership to an in-sync replica at the next leader and partition epochs', () => {
    expect(planLeaderMove(row(), { leader: 'b' })).toEqual(
      row({ leader: 'b', leaderEpoch: 6n, partitionEpoch: 10n }),
    );
  });

  it('changes nothing when the node leads already', () => {
    expect(planLeaderMove(row(), { leader: 'a' })).toBeNull();
  });

  it('refuses a replica outside the ISR, and a node that is no replica at all', () => {
    for (const leader of ['c', 'z']) {
      let caught: unknown;
      try {
        planLeaderMove(row(), { leader });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TesseraError);
      expect((caught as TesseraError).code).toBe('CONFLICT');
      expect((caught as TesseraError).message).toBe(`${leader} is not in sync for orders/3`);
    }
  });
});
