/** Small statistics helpers for the client benchmark. */

/** Nearest-rank percentile of an ascending array (q in 0..100); NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(xs: readonly number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

/** Cumulative bucket counts of one Prometheus histogram series: upper bound (s) → count. */
export type Buckets = Map<number, number>;

/**
 * Reads the buckets of `metric` whose labels include `match` (e.g. `subject="events.map"`) from
 * a /metrics text, summed over the other labels.
 */
export function parseBuckets(text: string, metric: string, match: string): Buckets {
  const buckets: Buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`) || !line.includes(match)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || !Number.isFinite(value)) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  return buckets;
}

export interface BucketQuantiles {
  count: number;
  /** Upper bounds (ms) of the buckets holding each quantile: "p99 ≤ x ms". */
  p50: number;
  p90: number;
  p99: number;
}

/** Quantiles (as bucket upper bounds) of what was observed between two scrapes. */
export function bucketQuantiles(before: Buckets, after: Buckets): BucketQuantiles {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  const q = (x: number): number => {
    if (total === 0) return Number.NaN;
    const i = counts.findIndex((c) => c >= x * total);
    return bounds[i] * 1000;
  };
  return { count: total, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}
