/** One cumulative bucket of a Prometheus histogram: `count` observations were ≤ `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/** The cumulative buckets of histogram `name` in a /metrics text (`+Inf` as Infinity), in order. */
export function parseBuckets(text: string, name: string): Bucket[] {
  const prefix = `${name}_bucket{`;
  const buckets: Bucket[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const count = Number(line.trim().split(/\s+/).pop());
    if (le === undefined || !Number.isFinite(count)) continue;
    buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/** What was observed between two scrapes of the same histogram (counts per bucket subtracted). */
export function bucketDelta(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  const was = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (was.get(b.le) ?? 0) }));
}

/**
 * The p-th percentile (0–100) as the upper bound of the bucket it falls in: "p99 ≤ 20 ms".
 * Infinity when it falls past the last finite bound; null without observations.
 */
export function bucketPercentile(buckets: readonly Bucket[], p: number): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  return buckets.find((b) => b.count >= rank)?.le ?? Number.POSITIVE_INFINITY;
}
