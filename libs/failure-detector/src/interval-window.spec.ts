import fc from 'fast-check';
import { IntervalWindow } from './interval-window';

function naiveStats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe(IntervalWindow.name, () => {
  it('keeps only the newest `capacity` samples', () => {
    const sut = new IntervalWindow(3);
    [1, 2, 3, 4, 5].forEach((v) => sut.add(v));

    expect(sut.size).toBe(3);
    expect(sut.mean).toBeCloseTo(4, 12);
    expect(sut.variance).toBeCloseTo(2 / 3, 12);
  });

  it('reports zero mean and variance when empty', () => {
    const sut = new IntervalWindow(4);

    expect(sut.mean).toBe(0);
    expect(sut.stdDeviation).toBe(0);
  });

  it('refuses a capacity below 2', () => {
    expect(() => new IntervalWindow(1)).toThrow(RangeError);
    expect(() => new IntervalWindow(2.5)).toThrow(RangeError);
  });

  it('matches a naive mean and std-dev of the last samples for any sequence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20 }),
        fc.array(fc.double({ min: 0, max: 5_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (capacity, values) => {
          const sut = new IntervalWindow(capacity);
          values.forEach((v) => sut.add(v));
          const expected = naiveStats(values.slice(-capacity));

          expect(sut.mean).toBeCloseTo(expected.mean, 6);
          expect(sut.stdDeviation).toBeCloseTo(expected.std, 3);
        },
      ),
    );
  });
});
