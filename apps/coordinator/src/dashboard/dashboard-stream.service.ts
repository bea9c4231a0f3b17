import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Subscription } from 'nats';
import { PinoLogger } from 'nestjs-pino';
import { Observable, type Subscriber } from 'rxjs';
import { Subjects } from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';
import { Coalescer } from './coalescer';
import { type DashboardSnapshotV1 } from './dashboard-snapshot';
import { DashboardSnapshots } from './dashboard-snapshot.service';

/** At most ~4 snapshots a second, however many events arrive. */
export const MIN_SNAPSHOT_INTERVAL_MS = 250;
/** A snapshot at least this often while anyone watches, so ages tick and a stuck stream shows. */
export const HEARTBEAT_SNAPSHOT_MS = 5_000;
/** A newcomer is given the last snapshot at once when it is at most this old. */
const FRESH_MS = 1_000;

/**
 * Live snapshots for every connected dashboard: one shared build per change (not one per
 * viewer), triggered by the cluster's events on NATS (a plain subscription, so every
 * coordinator instance sees all of them) and by a heartbeat. Nothing is built while nobody watches.
 */
@Injectable()
export class DashboardStream implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly viewers = new Set<Subscriber<DashboardSnapshotV1>>();
  private readonly coalescer: Coalescer;
  private latest: { snapshot: DashboardSnapshotV1; builtAt: number } | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private events: Subscription | null = null;

  constructor(
    private readonly snapshots: DashboardSnapshots,
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext(DashboardStream.name);
    this.coalescer = new Coalescer(
      () => this.broadcast(),
      MIN_SNAPSHOT_INTERVAL_MS,
      (error) =>
        this.log.warn(
          { err: error },
          'dashboard snapshot failed; the next change or heartbeat retries',
        ),
    );
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  onApplicationBootstrap(): void {
    this.events = this.network.subscribe(Subjects.events.all, () => this.refreshIfWatched());
    this.heartbeat = setInterval(() => this.refreshIfWatched(), HEARTBEAT_SNAPSHOT_MS);
    this.heartbeat.unref();
  }

  /** Snapshots from now on, the first one at once: the latest if fresh, else a new build. */
  updates(): Observable<DashboardSnapshotV1> {
    return new Observable<DashboardSnapshotV1>((viewer) => {
      this.viewers.add(viewer);
      if (this.latest && Date.now() - this.latest.builtAt <= FRESH_MS)
        viewer.next(this.latest.snapshot);
      else this.coalescer.request();
      return () => {
        this.viewers.delete(viewer);
        if (this.viewers.size === 0) this.latest = null;
      };
    });
  }

  /** Ends every open stream, so the HTTP server can close (an SSE response never ends by itself). */
  beforeApplicationShutdown(): void {
    this.coalescer.stop();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    try {
      this.events?.unsubscribe();
    } catch (error) {
      this.log.debug({ err: error }, 'events subscription already closed');
    }
    for (const viewer of [...this.viewers]) viewer.complete();
    this.viewers.clear();
  }

  private refreshIfWatched(): void {
    if (this.viewers.size > 0) this.coalescer.request();
  }

  private async broadcast(): Promise<void> {
    if (this.viewers.size === 0) return;
    const snapshot = await this.snapshots.build();
    this.latest = { snapshot, builtAt: Date.now() };
    for (const viewer of [...this.viewers]) viewer.next(snapshot);
  }
}
