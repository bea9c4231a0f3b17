import fc from 'fast-check';
import { REPLICA_ROLES } from '../common/states';
import { validateContract } from '../common/validate';

/*
 * fast-check helpers shared by the property tests of the hand-written parsers (*.parse.spec.ts):
 * inputs that are mostly valid and, now and then, subtly not.
 */

/** A value that is right for the field most of the time, and wrong in many ways otherwise. */
export function field<T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  const bad = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(-1),
    fc.constant(1.5),
    fc.constant('1'),
    fc.constant('a.b'),
    fc.constant(''),
    fc.constant('01234567890123456789'),
    fc.constant([]),
    fc.constant({}),
    fc.constant(true),
    fc.constant(Number.MAX_SAFE_INTEGER + 2),
    fc.constant(100_000),
  );
  return fc.oneof({ weight: 20, arbitrary: good }, { weight: 1, arbitrary: bad });
}

/** Null most of the time. */
export function rarely<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });
}

/** An object with the given fields, sometimes missing one, sometimes carrying an extra one. */
export function record(
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(fields),
      rarely(fc.constantFrom(...Object.keys(fields))),
      rarely(fc.constantFrom('extra', 'ok', 'offset', '__x')),
    )
    .map(([o, missing, extra]) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== missing) out[k] = v;
      if (extra !== null) out[extra] = 1;
      return out;
    });
}

export const token = fc.constantFrom('orders', 'kv-a', 'a_b', 'X');
export const epoch = fc.constantFrom('0', '1', '42', '9223372036854775807');
export const offset = fc.nat({ max: 1_000_000 });
export const role = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...REPLICA_ROLES) },
  { weight: 1, arbitrary: fc.constantFrom('leader', 'BOSS') },
);

/** A list field: a few items (now and then one that is no object), or no array at all. */
export function list(item: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const entry = fc.oneof(
    { weight: 20, arbitrary: item },
    { weight: 1, arbitrary: fc.constantFrom(null, 'x', 7, {}) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(entry, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom('many', null, {}) },
  );
}

export function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/** A value as it would cross the wire: class instances and undefined properties flattened. */
export function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/**
 * Holds a hand-written parser to its contract class: over the generated inputs it throws iff
 * validateContract throws, and when both accept they return the same values.
 */
export function assertSameAsContract<T extends object>(
  cls: new () => T,
  parse: (value: unknown) => T,
  inputs: fc.Arbitrary<unknown>,
): void {
  fc.assert(
    fc.property(inputs, (value) => {
      const ok = accepts(() => validateContract(cls, value));
      expect(accepts(() => parse(value))).toBe(ok);
      if (ok) expect(asJson(parse(value))).toEqual(asJson(validateContract(cls, value)));
    }),
    { numRuns: 3_000 },
  );
}
