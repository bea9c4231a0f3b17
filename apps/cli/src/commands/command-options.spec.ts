import { InvalidArgumentError } from 'commander';
import { collect, positiveInt, positiveSeconds } from './command-options';

describe(positiveInt.name, () => {
  it.each([
    ['1', 1],
    ['1024', 1024],
    [' 16 ', 16],
  ])('accepts %j', (value, expected) => {
    expect(positiveInt(value)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', 'abc', '', '1e3', '99999999999999999999'])('rejects %j', (value) => {
    expect(() => positiveInt(value)).toThrow(InvalidArgumentError);
  });
});

describe(positiveSeconds.name, () => {
  it('accepts fractions of a second and rejects zero, negatives and words', () => {
    expect(positiveSeconds('0.5')).toBe(0.5);
    expect(() => positiveSeconds('0')).toThrow('must be a positive number of seconds.');
    expect(() => positiveSeconds('-2')).toThrow(InvalidArgumentError);
    expect(() => positiveSeconds('soon')).toThrow(InvalidArgumentError);
    expect(() => positiveSeconds(' ')).toThrow(InvalidArgumentError);
  });
});

describe(collect.name, () => {
  it('accumulates repeated flags in order', () => {
    expect(collect('b', collect('a'))).toEqual(['a', 'b']);
  });
});
