/** Nearest-rank percentile (p in 0–100) of the non-null samples; null when there are none. */
export function percentile(samples: readonly (number | null)[], p: number): number | null {
  const xs = samples
    .filter((x): x is number => x !== null && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * xs.length));
  return xs[Math.min(rank, xs.length) - 1];
}

export interface Summary {
  p50: number | null;
  p99: number | null;
  max: number | null;
  n: number;
}

export function summarize(samples: readonly (number | null)[]): Summary {
  const present = samples.filter((x): x is number => x !== null);
  return {
    p50: percentile(present, 50),
    p99: percentile(present, 99),
    max: present.length ? Math.max(...present) : null,
    n: present.length,
  };
}

/** Milliseconds for a table cell: `1 234` / `1.23 s` style, or `–`. */
export function ms(value: number | null): string {
  if (value === null) return '–';
  return value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${Math.round(value)} ms`;
}
