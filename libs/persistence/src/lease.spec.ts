import { performance } from 'node:perf_hooks';
import { type DataSource } from 'typeorm';
import { Lease } from './lease';

/** A database whose first query grants term 1 and whose later ones (renewals) never answer. */
function grantsOnceThenHangs(): DataSource {
  let calls = 0;
  return {
    query: () => (calls++ === 0 ? Promise.resolve([{ term: '1' }]) : new Promise(() => undefined)),
  } as unknown as DataSource;
}

describe(Lease.name, () => {
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('reports the loss even when its expiry timer fires a moment before the grant ends', async () => {
    jest.useFakeTimers({ now: 0 });
    // The lease's monotonic clock, driven by the fake timers' clock, `lag` ms behind it.
    let lag = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => Date.now() - lag);
    const sut = new Lease(grantsOnceThenHangs(), 'coordinator', 'early', 'holder', {
      ttlMs: 1_200,
      renewEveryMs: 300,
      safetyMarginMs: 200,
    });
    const changes: boolean[] = [];
    sut.onChange((active) => changes.push(active));
    sut.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([true]);
    // From here the monotonic clock reads 5 ms behind the timers' clock: the expiry timer fires
    // while the grant still looks active.
    lag = 5;
    await jest.advanceTimersByTimeAsync(1_001);
    expect(sut.isActive).toBe(true);
    await jest.advanceTimersByTimeAsync(10);
    expect(sut.isActive).toBe(false);
    expect(changes).toEqual([true, false]);
    await sut.stop();
  });
});
