/**
 * The leader lease a data node holds from the control plane (RELIABILITY S3/S7/S8): a leader may
 * serve only while the lease is fresh, so a node cut off from the control plane (or paused) stops
 * acting as leader before anyone else can be elected in its place.
 *
 * The lease is renewed by acknowledged heartbeats and measured on the node's monotonic clock from
 * the SEND time of the heartbeat that was acknowledged: health cannot have heard that heartbeat
 * before it was sent, and declares the node DEAD only after a silence (≈ 950 ms with the
 * defaults) that is longer than the lease (600 ms by default) — so the lease has always run out
 * before a failover can begin.
 *
 * After a lapse the lease is not simply renewed by the next acknowledgement: the node was away
 * and may have been replaced, so it must also re-learn its roles from consensus with a reconcile
 * that *started after* that acknowledgement. Until then `isHeld()` stays false.
 */
export class Lease {
  private expiresAt = Number.NEGATIVE_INFINITY;
  private held = false;
  /** Set by the first acknowledgement after a lapse: a reconcile started after this round confirms. */
  private confirmAfterRound: number | null = null;
  private lapses = 0;

  constructor(
    readonly leaseMs: number,
    private readonly now: () => number,
  ) {
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError('leaseMs must be > 0');
  }

  /** How many times a held lease has run out (for logs and tests). */
  get lapseCount(): number {
    return this.lapses;
  }

  /** Milliseconds left (≤ 0 when expired), whether or not the lease is confirmed. */
  remainingMs(): number {
    return this.expiresAt - this.now();
  }

  /** True while the lease is fresh and confirmed. Latches a lapse the moment it is observed. */
  isHeld(): boolean {
    this.observe(this.now());
    return this.held;
  }

  /** True when an acknowledgement arrived after a lapse and a reconcile must confirm the roles. */
  get awaitingReconcile(): boolean {
    return !this.held && this.confirmAfterRound !== null;
  }

  /**
   * A heartbeat sent at `sentAt` (same clock) was acknowledged. `round` is the number of role
   * reconciles started so far. Returns true when a reconcile is needed before the lease counts.
   */
  acknowledged(sentAt: number, round: number): boolean {
    const now = this.now();
    // The lease ran out before this acknowledgement: whatever confirmation was pending is void.
    if (now >= this.expiresAt) {
      this.observe(now);
      this.confirmAfterRound = null;
    }
    this.expiresAt = Math.max(this.expiresAt, sentAt + this.leaseMs);
    if (this.held || now >= this.expiresAt) return false;
    this.confirmAfterRound ??= round;
    return true;
  }

  /**
   * A reconcile that was started as round `round` has applied its roles. It confirms the lease
   * when it started after the acknowledgement that ended the lapse. Returns true when that made
   * the lease held again.
   */
  reconciled(round: number): boolean {
    if (this.held || this.confirmAfterRound === null || round <= this.confirmAfterRound)
      return false;
    if (this.now() >= this.expiresAt) return false;
    this.held = true;
    this.confirmAfterRound = null;
    return true;
  }

  private observe(now: number): void {
    if (this.held && now >= this.expiresAt) {
      this.held = false;
      this.confirmAfterRound = null;
      this.lapses++;
    }
  }
}
