import { TesseraError } from '@tessera/contracts';
import { AckWaiters, HighWatermarkTracker, unconfirmedWrite } from './high-watermark';

describe(HighWatermarkTracker.name, () => {
  let now: number;

  function tracker(
    overrides: Partial<ConstructorParameters<typeof HighWatermarkTracker>[0]> = {},
  ): HighWatermarkTracker {
    return new HighWatermarkTracker({
      leaderId: 'a',
      isr: ['a', 'b', 'c'],
      replicas: ['a', 'b', 'c'],
      leaderLogEnd: 0,
      catchUpGraceMs: 1_000,
      now: () => now,
      ...overrides,
    });
  }

  beforeEach(() => {
    now = 0;
  });

  it('is the smallest position among the leader and every ISR member', () => {
    const sut = tracker();
    expect(sut.leaderAppended(10)).toBe(0); // nobody has fetched yet
    expect(sut.followerFetched('b', 7)).toBe(0); // c has not fetched at this epoch
    expect(sut.followerFetched('c', 4)).toBe(4);
    expect(sut.followerFetched('c', 10)).toBe(7);
    expect(sut.followerFetched('b', 10)).toBe(10);
  });

  it('never goes back, not even when a follower reports less', () => {
    const sut = tracker({ leaderLogEnd: 5 });
    sut.followerFetched('b', 5);
    expect(sut.followerFetched('c', 5)).toBe(5);
    expect(sut.followerFetched('c', 2)).toBe(5);
  });

  it('is the leader log end with a single-member ISR', () => {
    const sut = tracker({ isr: ['a'], replicas: ['a'] });
    expect(sut.leaderAppended(3)).toBe(3);
  });

  it('advances when the ISR shrinks past a silent member', () => {
    const sut = tracker({ leaderLogEnd: 8 });
    sut.followerFetched('b', 8);
    expect(sut.highWatermark).toBe(0);
    expect(sut.setMembers(['a', 'b'], ['a', 'b', 'c'])).toBe(8);
  });

  it('waits for a caught-up replica outside the ISR until its grace runs out', () => {
    const sut = tracker({ isr: ['a', 'b'], replicas: ['a', 'b', 'd'], leaderLogEnd: 4 });
    sut.followerFetched('b', 4);
    expect(sut.highWatermark).toBe(4);
    expect(sut.followerFetched('d', 2)).toBe(4); // behind: not counted
    expect(sut.ackSet()).toEqual(['b']);
    sut.followerFetched('d', 4); // caught up: counted from now on
    expect(sut.ackSet()).toEqual(['b', 'd']);
    sut.leaderAppended(6);
    expect(sut.followerFetched('b', 6)).toBe(4); // d has not got 4–5 yet
    now = 1_001;
    expect(sut.recompute()).toBe(6); // d went quiet for longer than the grace
    expect(sut.ackSet()).toEqual(['b']);
  });

  it('forgets members that left the replica list', () => {
    const sut = tracker({ leaderLogEnd: 3 });
    sut.followerFetched('b', 3);
    sut.followerFetched('c', 1);
    sut.setMembers(['a', 'b'], ['a', 'b']);
    expect(sut.positionOf('c')).toBeUndefined();
    expect(sut.highWatermark).toBe(3);
  });
});

describe(AckWaiters.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves waiters below the high watermark and keeps the rest', async () => {
    const sut = new AckWaiters();
    const resolved: number[] = [];
    for (const offset of [0, 1, 2])
      void sut.wait(offset, 5_000, () => new Error('t')).then(() => resolved.push(offset));
    sut.release(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toEqual([0, 1]);
    expect(sut.size).toBe(1);
  });

  it('rejects a waiter at its deadline', async () => {
    const sut = new AckWaiters();
    const pending = sut.wait(0, 5_000, () => unconfirmedWrite('TIMEOUT', 'no ack in 5 s'));
    jest.advanceTimersByTime(4_999);
    expect(sut.size).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(pending).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('may or may not survive'),
    });
    expect(sut.size).toBe(0);
  });

  it('fails every waiter at once', async () => {
    const sut = new AckWaiters();
    const a = sut.wait(0, 5_000, () => new Error('t'));
    const b = sut.wait(1, 5_000, () => new Error('t'));
    sut.failAll(() => new TesseraError('TIMEOUT', 'leadership lost'));
    await expect(a).rejects.toBeInstanceOf(TesseraError);
    await expect(b).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
