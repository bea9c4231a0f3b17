import fc from 'fast-check';
import { CatchUpThrottle, recordBytes } from './catch-up-throttle';

describe(CatchUpThrottle.name, () => {
  it('lets a second’s worth through at once, then asks to wait for the debt', () => {
    const sut = new CatchUpThrottle(1_000, 0);
    expect(sut.consume(1_000, 0)).toBe(0);
    expect(sut.consume(500, 0)).toBe(500);
    // Half a second later the debt is paid.
    expect(sut.consume(0, 500)).toBe(0);
    expect(sut.consume(1, 500)).toBe(1);
  });

  it('never throttles when off', () => {
    const sut = new CatchUpThrottle(0, 0);
    expect(sut.enabled).toBe(false);
    expect(sut.consume(10_000_000, 0)).toBe(0);
  });

  it('holds the long-run rate: bytes copied never exceed rate × time + one burst', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 200_000 }), { minLength: 1, maxLength: 200 }),
        (rate, chunks) => {
          const sut = new CatchUpThrottle(rate, 0);
          let now = 0;
          let copied = 0;
          for (const bytes of chunks) {
            copied += bytes;
            now += sut.consume(bytes, now); // the caller waits as told before the next chunk
          }
          return copied <= rate * (now / 1000) + rate + Math.max(...chunks);
        },
      ),
    );
  });

  it('counts a record as its key and value', () => {
    expect(recordBytes({ key: 'k1', value: 'abc' })).toBe(5);
  });
});
