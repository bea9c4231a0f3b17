import { ms, percentile, summarize } from './stats';

describe(percentile.name, () => {
  it('takes the nearest rank, ignoring missing samples', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([10, null, 20], 50)).toBe(10);
    expect(percentile([null], 50)).toBeNull();
    expect(
      percentile(
        Array.from({ length: 200 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(198);
  });
});

describe(summarize.name, () => {
  it('summarises samples with their count', () => {
    expect(summarize([3, null, 1, 2])).toEqual({ p50: 2, p99: 3, max: 3, n: 3 });
  });
});

describe(ms.name, () => {
  it('prints milliseconds, seconds past one second', () => {
    expect([ms(null), ms(12.4), ms(1_234)]).toEqual(['–', '12 ms', '1.23 s']);
  });
});
