import 'reflect-metadata';
import { parseLivenessEvent } from './liveness-event';

describe(parseLivenessEvent.name, () => {
  const eventId = 'a4f3c0f2-3d55-4f0e-9b7b-2b8f1f6f3e21';
  const at = '2025-01-01T00:00:00.000Z';

  it('reads a liveness change, tolerating extra fields', () => {
    expect(
      parseLivenessEvent({
        eventId,
        at: '2025-01-01T00:00:00Z',
        nodeId: 'n1',
        state: 'DEAD',
        previous: 'SUSPECT',
      }),
    ).toEqual({
      ok: true,
      value: {
        eventId,
        nodeId: 'n1',
        state: 'DEAD',
        previous: 'SUSPECT',
        atMs: Date.UTC(2025, 0, 1),
      },
    });
    expect(
      parseLivenessEvent({ eventId, at, nodeId: 'n1', state: 'ALIVE', previous: null }),
    ).toMatchObject({
      ok: true,
      value: { previous: null },
    });
  });

  it.each([
    ['a string', 'DEAD'],
    [
      'an event id that is not a uuid',
      { eventId: '1', at, nodeId: 'n1', state: 'DEAD', previous: null },
    ],
    ['a missing time', { eventId, nodeId: 'n1', state: 'DEAD', previous: null }],
    [
      'a time that is not one',
      { eventId, at: 'soon', nodeId: 'n1', state: 'DEAD', previous: null },
    ],
    ['a node id with a wildcard', { eventId, at, nodeId: 'n*', state: 'DEAD', previous: null }],
    ['an unknown state', { eventId, at, nodeId: 'n1', state: 'GONE', previous: null }],
    ['an unknown previous state', { eventId, at, nodeId: 'n1', state: 'DEAD', previous: 'LEFT' }],
  ])('refuses %s', (_what, value) => {
    expect(parseLivenessEvent(value).ok).toBe(false);
  });
});
