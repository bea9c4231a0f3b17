import { performance } from 'node:perf_hooks';
import { type DataSource, type EntityManager } from 'typeorm';
import { TesseraError } from '@tessera/contracts';
import { type OwningSchema } from './outbox';

export interface LeaseOptions {
  /** How long a grant lasts without renewal (Postgres's clock). */
  ttlMs?: number;
  /** How often the holder renews, and a standby tries to take over. */
  renewEveryMs?: number;
  /** The holder stops acting this long before its local view of the grant would end. */
  safetyMarginMs?: number;
}

export interface LeaseLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const quiet: LeaseLogger = { info: () => undefined, warn: () => undefined };

export const DEFAULT_LEASE: Required<LeaseOptions> = { ttlMs: 3_000, renewEveryMs: 500, safetyMarginMs: 500 };

/**
 * A lease for a singleton role (active coordinator, active recovery) with a fencing term.
 * Safety does not rest on clocks or pauses: every write the holder makes calls `fence(m)` in its
 * own transaction, which share-locks the lease row and fails unless this holder still owns this
 * term; a takeover (an UPDATE of that row) waits for such a transaction and then bumps the term,
 * so a paused ex-holder's later writes fail. Timing only decides liveness: the holder renews
 * well inside the TTL and stops acting when its local, monotonic view of the grant runs out.
 */
export class Lease {
  private timer: NodeJS.Timeout | null = null;
  /** Fires when the local view of the grant runs out, whether or not a renewal came back. */
  private expiry: NodeJS.Timeout | null = null;
  private currentTerm: bigint | null = null;
  /** Monotonic time until which this holder may act (grant start as sent + ttl − margin). */
  private activeUntil = 0;
  private stopped = true;
  private readonly opts: Required<LeaseOptions>;
  private readonly listeners: ((active: boolean, term: bigint | null) => void)[] = [];

  constructor(
    private readonly db: DataSource,
    private readonly schema: OwningSchema,
    readonly role: string,
    readonly holder: string,
    options: LeaseOptions = {},
    private readonly log: LeaseLogger = quiet,
  ) {
    this.opts = { ...DEFAULT_LEASE, ...options };
    if (this.opts.renewEveryMs * 2 > this.opts.ttlMs) throw new Error('renew at least twice per lease TTL');
  }

  get term(): bigint | null {
    return this.isActive ? this.currentTerm : null;
  }

  get isActive(): boolean {
    return this.currentTerm !== null && performance.now() < this.activeUntil;
  }

  onChange(listener: (active: boolean, term: bigint | null) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  /** Stops renewing and hands the role over at once (a clean shutdown needs no TTL wait). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiry) clearTimeout(this.expiry);
    const term = this.currentTerm;
    this.setTerm(null);
    if (term !== null) {
      await this.db
        .query(
          `UPDATE "${this.schema}".lease SET expires_at = now() - interval '1 millisecond'
            WHERE role = $1 AND holder = $2 AND term = $3`,
          [this.role, this.holder, term.toString()],
        )
        .catch(() => undefined);
    }
  }

  /** One acquire-or-renew attempt; returns whether this holder is active after it. */
  async tryAcquire(): Promise<boolean> {
    const sentAt = performance.now();
    const ttl = `${this.opts.ttlMs} milliseconds`;
    try {
      let rows: { term: string }[];
      if (this.currentTerm !== null) {
        [rows] = (await this.db.query(
          `UPDATE "${this.schema}".lease SET expires_at = now() + $4::interval
            WHERE role = $1 AND holder = $2 AND term = $3 RETURNING term`,
          [this.role, this.holder, this.currentTerm.toString(), ttl],
        )) as [{ term: string }[], number];
      } else {
        rows = await this.db.query(
          `INSERT INTO "${this.schema}".lease AS l (role, holder, term, expires_at)
           VALUES ($1, $2, 1, now() + $3::interval)
           ON CONFLICT (role) DO UPDATE
             SET holder = EXCLUDED.holder, term = l.term + 1, expires_at = EXCLUDED.expires_at, acquired_at = now()
             WHERE l.expires_at < now()
           RETURNING term`,
          [this.role, this.holder, ttl],
        );
      }
      if (rows.length === 1) {
        const term = BigInt(rows[0].term);
        const until = sentAt + this.opts.ttlMs - this.opts.safetyMarginMs;
        // Back too late to act on (the grant ran out meanwhile): not worth a flap to active and
        // back; the grant lapses in Postgres and the role is contested again.
        if (until <= performance.now()) return this.isActive;
        // A renewal that comes back late (after a newer one) must not shorten the grant.
        this.activeUntil = term === this.currentTerm ? Math.max(this.activeUntil, until) : until;
        this.setTerm(term);
        this.armExpiry();
        return true;
      }
      this.setTerm(null);
      return false;
    } catch (error) {
      // Postgres unreachable: keep acting only until the local view of the grant runs out.
      this.log.warn({ err: error, role: this.role }, 'lease renewal failed');
      if (!this.isActive) this.setTerm(null);
      return this.isActive;
    }
  }

  /**
   * Call inside every transaction that writes as this role: it fails with FENCED unless this
   * holder still owns the current term, and holds the row so no takeover commits meanwhile.
   */
  async fence(m: EntityManager): Promise<bigint> {
    const term = this.currentTerm;
    if (term === null || !this.isActive) {
      throw new TesseraError('FENCED', `${this.holder} is not the active ${this.role}`);
    }
    const rows: unknown[] = await m.query(
      `SELECT 1 FROM "${this.schema}".lease WHERE role = $1 AND holder = $2 AND term = $3 FOR SHARE`,
      [this.role, this.holder, term.toString()],
    );
    if (rows.length !== 1) {
      this.setTerm(null);
      throw new TesseraError('FENCED', `${this.role} term ${term} of ${this.holder} is over`);
    }
    return term;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    // A renewal stuck on a connection that went dark (packets dropped, no reset) must not stop
    // the next attempts, which may get a fresh connection: wait for it at most one TTL.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.tryAcquire(),
      new Promise<void>((resolve) => (waited = setTimeout(resolve, this.opts.ttlMs))),
    ]);
    clearTimeout(waited);
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.opts.renewEveryMs);
  }

  /**
   * Tells the listeners the lease is lost as soon as the local view of the grant runs out: a
   * holder cut off from Postgres (RELIABILITY S8) may wait on its renewal indefinitely, and
   * must stop acting (consuming events, driving work) all the same.
   */
  private armExpiry(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = setTimeout(
      () => {
        this.expiry = null;
        if (this.currentTerm === null) return;
        // Timers run off the event loop's cached clock and can fire a moment before the grant's
        // end by performance.now(); without looking again the loss went unreported until a
        // renewal came back (seen in CI, under load).
        if (this.isActive) return this.armExpiry();
        this.log.warn({ role: this.role }, 'lease ran out with no renewal back from Postgres');
        this.setTerm(null);
      },
      Math.max(0, this.activeUntil - performance.now()) + 1,
    );
    this.expiry.unref(); // the renew loop keeps a holder's process alive, not this
  }

  private setTerm(term: bigint | null): void {
    const before = this.currentTerm;
    this.currentTerm = term;
    if (before === term) return;
    if (term !== null) this.log.info({ role: this.role, term: term.toString(), holder: this.holder }, 'lease acquired');
    else if (before !== null) this.log.warn({ role: this.role, term: before.toString(), holder: this.holder }, 'lease lost');
    for (const l of this.listeners) l(term !== null, term);
  }
}
