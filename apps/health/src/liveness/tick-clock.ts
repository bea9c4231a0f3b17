/**
 * Measures how late a periodic timer fires (timer drift). A timer can only be late when the
 * event loop was busy or the process was stopped (GC, CPU starvation, SIGSTOP); during that time
 * heartbeats were queued in the socket, unread, so the lag is our silence, not the nodes'.
 */
export class TickClock {
  private expectedAt: number | null = null;

  constructor(readonly periodMs: number) {
    if (!(periodMs > 0)) throw new RangeError(`periodMs must be positive, got ${periodMs}`);
  }

  /** Call when the timer is armed at `nowMs` for one period. */
  armed(nowMs: number): void {
    this.expectedAt = nowMs + this.periodMs;
  }

  /** Call when the timer fires: how many ms later than expected (0 when on time or not armed). */
  fired(nowMs: number): number {
    const expected = this.expectedAt;
    this.expectedAt = null;
    return expected === null ? 0 : Math.max(0, nowMs - expected);
  }
}
