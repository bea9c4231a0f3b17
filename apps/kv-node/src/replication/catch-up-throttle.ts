/**
 * The catch-up copy throttle (Kafka's replication quota, per node): a token bucket over the bytes
 * a follower pulls while it is behind its leader, so re-replicating or rebalancing many
 * partitions at once cannot starve the leaders' live traffic. Followers that are caught up are
 * never throttled: their fetches are the write path's acknowledgements.
 */
export class CatchUpThrottle {
  private tokens: number;
  private last: number;

  /** `bytesPerSec` 0 turns it off; a burst of up to one second's worth passes at once. */
  constructor(
    private readonly bytesPerSec: number,
    now: number,
  ) {
    this.tokens = bytesPerSec;
    this.last = now;
  }

  get enabled(): boolean {
    return this.bytesPerSec > 0;
  }

  /**
   * Spends `bytes` just copied; returns how long the caller should wait before copying more
   * (0 while within the rate). Bytes are never refused: the debt is paid by waiting.
   */
  consume(bytes: number, now: number): number {
    if (!this.enabled || bytes <= 0) return 0;
    this.refill(now);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSec) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.bytesPerSec, this.tokens + (elapsed / 1000) * this.bytesPerSec);
  }
}

/** Bytes a record costs against the throttle (what is stored: key and value). */
export function recordBytes(record: { key: string; value: string }): number {
  return record.key.length + record.value.length;
}
