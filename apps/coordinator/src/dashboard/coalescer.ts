/**
 * Runs `task` at most once per `minIntervalMs` and never twice at once; a request made while
 * it runs earns exactly one more run afterwards (trailing edge). A burst of cluster events thus
 * becomes a few snapshots, and the last one always reflects the end of the burst.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private pending = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    // A run already scheduled starts after this request, so it covers it.
    if (this.timer) return;
    const wait = Math.max(0, this.lastStart + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    this.pending = false;
    this.lastStart = Date.now();
    try {
      await this.task();
    } catch (error) {
      this.onError(error);
    } finally {
      this.running = false;
    }
    if (this.pending) {
      this.pending = false;
      this.request();
    }
  }
}
