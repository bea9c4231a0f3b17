import 'reflect-metadata';
import { parsePartitionsChanged } from './partitions-changed.event';

describe(parsePartitionsChanged.name, () => {
  const eventId = '0b7e1a52-6f0e-4c1c-a3a5-3f1f0f6c2d11';

  it('reads a DELETE with its resource, tolerating extra fields', () => {
    expect(
      parsePartitionsChanged({
        eventId,
        at: '2025-01-01T00:00:00Z',
        reason: 'DELETE',
        changes: [],
        deletedResource: 'orders',
      }),
    ).toEqual({ ok: true, value: { eventId, reason: 'DELETE', deletedResource: 'orders' } });
  });

  it('reads other reasons without a resource', () => {
    expect(parsePartitionsChanged({ eventId, reason: 'ELECTION', changes: [] })).toEqual({
      ok: true,
      value: { eventId, reason: 'ELECTION', deletedResource: null },
    });
  });

  it.each([
    ['a non-object', 'DELETE'],
    [
      'an event id that is not a uuid',
      { eventId: 'e1', reason: 'DELETE', deletedResource: 'orders' },
    ],
    ['an unknown reason', { eventId, reason: 'MERGE' }],
    ['a DELETE without a resource', { eventId, reason: 'DELETE' }],
    [
      'a DELETE of a resource with a wildcard',
      { eventId, reason: 'DELETE', deletedResource: 'orders.*' },
    ],
  ])('refuses %s', (_what, value) => {
    expect(parsePartitionsChanged(value).ok).toBe(false);
  });
});
