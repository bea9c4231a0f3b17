/**
 * A fixed-capacity sliding window of heartbeat inter-arrival times (ms) with O(1) mean and
 * variance. Running sums drift when fractional values are added and removed for hours, so the
 * sums are recomputed exactly from the buffer once per `capacity` insertions (amortised O(1)).
 */
export class IntervalWindow {
  private readonly samples: number[] = [];
  private next = 0; // slot the next sample overwrites once the buffer is full
  private sum = 0;
  private sumOfSquares = 0;
  private insertsSinceResum = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`window capacity must be an integer >= 2, got ${capacity}`);
    }
  }

  get size(): number {
    return this.samples.length;
  }

  add(intervalMs: number): void {
    if (this.samples.length < this.capacity) {
      this.samples.push(intervalMs);
    } else {
      const evicted = this.samples[this.next];
      this.samples[this.next] = intervalMs;
      this.next = (this.next + 1) % this.capacity;
      this.sum -= evicted;
      this.sumOfSquares -= evicted * evicted;
    }
    this.sum += intervalMs;
    this.sumOfSquares += intervalMs * intervalMs;
    if (++this.insertsSinceResum >= this.capacity) this.resum();
  }

  get mean(): number {
    return this.samples.length === 0 ? 0 : this.sum / this.samples.length;
  }

  /** Population variance; clamped at 0 because E[x²] − E[x]² can dip below it by rounding. */
  get variance(): number {
    const n = this.samples.length;
    if (n === 0) return 0;
    const mean = this.sum / n;
    return Math.max(0, this.sumOfSquares / n - mean * mean);
  }

  get stdDeviation(): number {
    return Math.sqrt(this.variance);
  }

  private resum(): void {
    this.sum = 0;
    this.sumOfSquares = 0;
    for (const s of this.samples) {
      this.sum += s;
      this.sumOfSquares += s * s;
    }
    this.insertsSinceResum = 0;
  }
}
