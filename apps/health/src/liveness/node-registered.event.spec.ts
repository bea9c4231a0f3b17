import 'reflect-metadata';
import { isFreshRegistration, parseNodeRegistered } from './node-registered.event';

describe(parseNodeRegistered.name, () => {
  const good = {
    eventId: '3f1c2f44-8d6b-4c53-9a3c-1c1f5f0f9b10',
    at: '2025-01-01T00:00:00.000Z',
    nodeId: 'n1',
    incarnation: 2,
  };

  it('accepts a well-formed event and ignores extra fields', () => {
    expect(parseNodeRegistered({ ...good, version: 4 })).toEqual({ ok: true, value: good });
  });

  it.each([
    ['not an object', 'x'],
    ['an array', [good]],
    ['null', null],
    ['a missing eventId', { ...good, eventId: undefined }],
    ['a bad time', { ...good, at: 'yesterday' }],
    ['a node id with a dot', { ...good, nodeId: 'n.1' }],
    ['a negative incarnation', { ...good, incarnation: -1 }],
    ['a fractional incarnation', { ...good, incarnation: 1.5 }],
    ['a string incarnation', { ...good, incarnation: '2' }],
  ])('refuses %s', (_what, value) => {
    expect(parseNodeRegistered(value).ok).toBe(false);
  });
});

describe(isFreshRegistration.name, () => {
  it('tells a recent registration from an old one', () => {
    const at = '2025-01-01T00:00:00.000Z';
    const t = Date.parse(at);
    expect(isFreshRegistration(at, t + 4_000, 5_000)).toBe(true);
    expect(isFreshRegistration(at, t + 6_000, 5_000)).toBe(false);
  });
});
