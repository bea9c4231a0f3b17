import { planIsrChange } from './isr-change';
import { codeOf, row } from './partition.fixtures';

describe(planIsrChange.name, () => {
  it('grows the ISR in the replicas’ order with the partition epoch + 1, leader epoch kept', () => {
    const sut = planIsrChange(row(), { isr: ['c', 'a', 'b'], partitionEpoch: '9' });

    expect(sut).toEqual(row({ isr: ['a', 'b', 'c'], partitionEpoch: 10n }));
  });

  it('answers null when the ISR asked for is the current one', () => {
    expect(planIsrChange(row(), { isr: ['b', 'a'], partitionEpoch: '9' })).toBeNull();
  });

  it('refuses a stale partition epoch and an offline partition (CONFLICT)', () => {
    expect(codeOf(() => planIsrChange(row(), { isr: ['a'], partitionEpoch: '8' }))).toBe('CONFLICT');
    expect(codeOf(() => planIsrChange(row({ leader: null }), { isr: ['a'], partitionEpoch: '9' }))).toBe('CONFLICT');
  });

  it('refuses an ISR without the leader, with a non-replica or with a duplicate (INVALID)', () => {
    for (const isr of [['b'], ['a', 'x'], ['a', 'a']])
      expect(codeOf(() => planIsrChange(row(), { isr, partitionEpoch: '9' }))).toBe('INVALID');
  });
});
