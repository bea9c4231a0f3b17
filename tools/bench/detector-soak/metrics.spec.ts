import { bucketDelta, bucketPercentile, parseBuckets } from './metrics';

const TEXT = [
  '# HELP tessera_health_loop_lag_ms How late the detector tick fired',
  '# TYPE tessera_health_loop_lag_ms histogram',
  'tessera_health_loop_lag_ms_bucket{le="1"} 90',
  'tessera_health_loop_lag_ms_bucket{le="10"} 98',
  'tessera_health_loop_lag_ms_bucket{le="100"} 100',
  'tessera_health_loop_lag_ms_bucket{le="+Inf"} 100',
  'tessera_health_loop_lag_ms_sum 321',
  'tessera_health_loop_lag_ms_count 100',
  'tessera_other_bucket{le="1"} 5',
].join('\n');

describe(parseBuckets.name, () => {
  it('reads the cumulative buckets of one histogram, +Inf as Infinity', () => {
    expect(parseBuckets(TEXT, 'tessera_health_loop_lag_ms')).toEqual([
      { le: 1, count: 90 },
      { le: 10, count: 98 },
      { le: 100, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]);
  });

  it('finds nothing for a histogram that is not there', () => {
    expect(parseBuckets(TEXT, 'tessera_absent')).toEqual([]);
  });
});

describe(bucketPercentile.name, () => {
  const buckets = parseBuckets(TEXT, 'tessera_health_loop_lag_ms');

  it('answers the upper bound of the bucket the rank falls in', () => {
    expect(bucketPercentile(buckets, 50)).toBe(1);
    expect(bucketPercentile(buckets, 98)).toBe(10);
    expect(bucketPercentile(buckets, 99)).toBe(100);
  });

  it('answers Infinity past the last finite bound and null without observations', () => {
    expect(
      bucketPercentile(
        [
          { le: 1, count: 0 },
          { le: Number.POSITIVE_INFINITY, count: 3 },
        ],
        99,
      ),
    ).toBe(Number.POSITIVE_INFINITY);
    expect(bucketPercentile([{ le: 1, count: 0 }], 99)).toBeNull();
  });
});

describe(bucketDelta.name, () => {
  it('keeps only what was observed after the first scrape', () => {
    const later = parseBuckets(TEXT, 'tessera_health_loop_lag_ms');
    const earlier = later.map((b) => ({ le: b.le, count: Math.floor(b.count / 2) }));

    expect(bucketDelta(earlier, later).map((b) => b.count)).toEqual([45, 49, 50, 50]);
  });
});
