import { planLeaderMove } from './leader-move';
import { codeOf, row } from './partition.fixtures';

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
      expect(codeOf(() => planLeaderMove(row(), { leader }))).toBe('CONFLICT');
    }
    expect(() => planLeaderMove(row(), { leader: 'c' })).toThrow('c is not in sync for orders/0');
  });
});
