import { type PinoLogger } from 'nestjs-pino';
import { type Subscription } from 'rxjs';
import { type NetworkManager } from '@tessera/messaging';
import { type DashboardSnapshotV1 } from './dashboard-snapshot';
import { type DashboardSnapshots } from './dashboard-snapshot.service';
import {
  DashboardStream,
  HEARTBEAT_SNAPSHOT_MS,
  MIN_SNAPSHOT_INTERVAL_MS,
} from './dashboard-stream.service';

describe(DashboardStream.name, () => {
  let builds: number;
  let onEvent: () => void;
  let unsubscribed: boolean;
  let sut: DashboardStream;
  let subscriptions: Subscription[];

  const snapshotNo = (n: number) => ({ at: String(n) }) as unknown as DashboardSnapshotV1;

  beforeEach(() => {
    jest.useFakeTimers();
    builds = 0;
    unsubscribed = false;
    subscriptions = [];
    const snapshots = {
      build: () => Promise.resolve(snapshotNo(++builds)),
    } as unknown as DashboardSnapshots;
    const network = {
      subscribe: (subject: string, handler: () => void) => {
        expect(subject).toBe('events.>');
        onEvent = handler;
        return { unsubscribe: () => (unsubscribed = true) };
      },
    } as unknown as NetworkManager;
    const log = {
      setContext: () => undefined,
      warn: () => undefined,
      debug: () => undefined,
    } as unknown as PinoLogger;
    sut = new DashboardStream(snapshots, network, log);
    sut.onApplicationBootstrap();
  });

  afterEach(() => {
    subscriptions.forEach((s) => s.unsubscribe());
    sut.beforeApplicationShutdown();
    jest.useRealTimers();
  });

  const watch = () => {
    const seen: string[] = [];
    const state = { completed: false };
    subscriptions.push(
      sut
        .updates()
        .subscribe({ next: (s) => seen.push(s.at), complete: () => (state.completed = true) }),
    );
    return { seen, state };
  };

  it('builds nothing while nobody watches', async () => {
    onEvent();
    await jest.advanceTimersByTimeAsync(HEARTBEAT_SNAPSHOT_MS * 3);
    expect(builds).toBe(0);
  });

  it('sends a newcomer a snapshot at once', async () => {
    const viewer = watch();
    await jest.advanceTimersByTimeAsync(0);
    expect(viewer.seen).toEqual(['1']);
  });

  it('shares one build among viewers and coalesces a burst of events', async () => {
    const a = watch();
    await jest.advanceTimersByTimeAsync(0);
    const b = watch(); // the fresh snapshot is reused, not rebuilt
    for (let i = 0; i < 100; i++) onEvent();
    await jest.advanceTimersByTimeAsync(MIN_SNAPSHOT_INTERVAL_MS);
    expect(builds).toBe(2);
    expect(a.seen).toEqual(['1', '2']);
    expect(b.seen).toEqual(['1', '2']);
  });

  it('sends a heartbeat snapshot while nothing changes', async () => {
    const viewer = watch();
    await jest.advanceTimersByTimeAsync(HEARTBEAT_SNAPSHOT_MS + MIN_SNAPSHOT_INTERVAL_MS);
    expect(viewer.seen).toEqual(['1', '2']);
  });

  it('ends every stream and stops listening at shutdown', async () => {
    const viewer = watch();
    await jest.advanceTimersByTimeAsync(0);
    sut.beforeApplicationShutdown();
    expect(viewer.state.completed).toBe(true);
    expect(unsubscribed).toBe(true);
    expect(sut.viewerCount).toBe(0);
  });
});
