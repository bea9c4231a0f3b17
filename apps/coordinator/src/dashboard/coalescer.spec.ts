import { Coalescer } from './coalescer';

describe(Coalescer.name, () => {
  let runs: number;
  let release: (() => void) | null;
  let errors: unknown[];

  beforeEach(() => {
    jest.useFakeTimers();
    runs = 0;
    release = null;
    errors = [];
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  const instant = () =>
    new Coalescer(
      async () => void (runs += 1),
      250,
      (e) => errors.push(e),
    );

  it('turns a burst of requests into one run', async () => {
    const sut = instant();
    for (let i = 0; i < 50; i++) sut.request();
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(1);
  });

  it('spaces runs by the minimum interval', async () => {
    const sut = instant();
    sut.request();
    await jest.advanceTimersByTimeAsync(0);
    sut.request();
    await jest.advanceTimersByTimeAsync(249);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
  });

  it('runs once more after a run that was asked for again while it ran', async () => {
    const sut = new Coalescer(
      () => {
        runs += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      250,
      (e) => errors.push(e),
    );
    sut.request();
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    sut.request();
    sut.request();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(1); // never two at once
    release!();
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    release!();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(2);
  });

  it('reports a failing run and keeps working', async () => {
    let fail = true;
    const sut = new Coalescer(
      async () => {
        runs += 1;
        if (fail) throw new Error('database away');
      },
      250,
      (e) => errors.push(e),
    );
    sut.request();
    await jest.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    fail = false;
    sut.request();
    await jest.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('runs nothing once stopped', async () => {
    const sut = instant();
    sut.request();
    sut.stop();
    sut.request();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(0);
  });
});
