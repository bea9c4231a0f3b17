import { TickClock } from './tick-clock';

describe(TickClock.name, () => {
  it('reports how late a tick fired after it was armed', () => {
    const sut = new TickClock(50);
    sut.armed(1_000);
    expect(sut.fired(1_052)).toBe(2);
    sut.armed(1_052);
    expect(sut.fired(3_102)).toBe(2_000);
  });

  it('never reports a negative lag for an early tick', () => {
    const sut = new TickClock(50);
    sut.armed(1_000);
    expect(sut.fired(1_049)).toBe(0);
  });

  it('reports no lag for a tick that was not armed', () => {
    const sut = new TickClock(50);
    expect(sut.fired(5_000)).toBe(0);
    sut.armed(0);
    sut.fired(60);
    expect(sut.fired(10_000)).toBe(0);
  });

  it('refuses a period that is not positive', () => {
    expect(() => new TickClock(0)).toThrow(RangeError);
  });
});
