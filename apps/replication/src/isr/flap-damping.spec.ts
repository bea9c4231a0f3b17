import fc from 'fast-check';
import { DEFAULT_FLAP_POLICY, IsrFlapDamper, readmitHoldMs } from './flap-damping';

const { windowMs, threshold, baseHoldMs, maxHoldMs } = DEFAULT_FLAP_POLICY;
const REPLICAS = ['a', 'b', 'c'];

/** Flaps `c` into and out of partition `key`'s ISR at each of `times`; returns the last `held`. */
function flap(
  sut: IsrFlapDamper,
  times: number[],
  key = 'r/0',
): { nodeId: string; holdMs: number }[] {
  let held: { nodeId: string; holdMs: number }[] = [];
  for (const t of times) {
    sut.observe(key, REPLICAS, REPLICAS, t - 1);
    held = sut.observe(key, ['a', 'b'], REPLICAS, t);
  }
  return held;
}

describe(readmitHoldMs.name, () => {
  it('holds nobody below the threshold', () => {
    expect(readmitHoldMs([1_000, 2_000], 3_000)).toBe(0);
  });

  it('holds for the base time at the threshold, doubling with each further removal up to the cap', () => {
    const at = (n: number) =>
      readmitHoldMs(
        Array.from({ length: n }, (_, i) => i * 100),
        5_000,
      );
    expect([threshold, threshold + 1, threshold + 2].map(at)).toEqual([
      baseHoldMs,
      2 * baseHoldMs,
      4 * baseHoldMs,
    ]);
    expect(at(threshold + 20)).toBe(maxHoldMs);
  });

  it('forgets removals older than the window', () => {
    const removals = Array.from({ length: threshold }, (_, i) => i * 1_000);
    expect(readmitHoldMs(removals, removals.at(-1)! + 1_000)).toBe(baseHoldMs);
    expect(readmitHoldMs(removals, windowMs + 1)).toBe(0);
  });

  it('never holds longer than the cap, and longer only with more recent removals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 * windowMs }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 3 * windowMs }),
        (removals, now) => {
          const hold = readmitHoldMs(removals, now);
          expect(hold).toBeGreaterThanOrEqual(0);
          expect(hold).toBeLessThanOrEqual(maxHoldMs);
          expect(readmitHoldMs([...removals, now], now)).toBeGreaterThanOrEqual(hold);
        },
      ),
    );
  });
});

describe(IsrFlapDamper.name, () => {
  it('counts a replica seen in the ISR and then out of it, and holds it from the threshold on', () => {
    const sut = new IsrFlapDamper();
    const times = Array.from({ length: threshold }, (_, i) => 10_000 + i * 2_000);
    expect(flap(sut, times.slice(0, -1))).toEqual([]);
    expect(sut.holdMs('r/0', 'c', times.at(-2)!)).toBe(0);
    expect(flap(sut, times.slice(-1))).toEqual([{ nodeId: 'c', holdMs: baseHoldMs }]);
    expect(sut.holdMs('r/0', 'c', times.at(-1)! + 1)).toBe(baseHoldMs);
  });

  it('lets a replica that stopped flapping rejoin as before, once its removals leave the window', () => {
    const sut = new IsrFlapDamper();
    const times = Array.from({ length: threshold + 2 }, (_, i) => 10_000 + i * 2_000);
    flap(sut, times);
    expect(sut.holdMs('r/0', 'c', times.at(-1)!)).toBe(4 * baseHoldMs);
    expect(sut.holdMs('r/0', 'c', times.at(-1)! + windowMs + 1)).toBe(0);
  });

  it('does not count a replica out of the ISR at the first sight, nor a new replica', () => {
    const sut = new IsrFlapDamper();
    sut.observe('r/0', ['a'], REPLICAS, 1_000); // b and c out when first seen: no removal
    for (let t = 2_000; t < 2_000 + threshold * 1_000; t += 1_000) {
      // d joins the replicas (a migration), never having been in the ISR
      sut.observe('r/0', ['a'], [...REPLICAS, 'd'], t);
    }
    expect(['b', 'c', 'd'].map((n) => sut.holdMs('r/0', n, 10_000))).toEqual([0, 0, 0]);
  });

  it('forgets a replica removed from the partition, and partitions no longer in the view', () => {
    const sut = new IsrFlapDamper();
    const times = Array.from({ length: threshold }, (_, i) => 10_000 + i * 2_000);
    flap(sut, times, 'r/0');
    flap(sut, times, 'r/1');
    const now = times.at(-1)! + 1;
    expect([sut.holdMs('r/0', 'c', now), sut.holdMs('r/1', 'c', now)]).toEqual([
      baseHoldMs,
      baseHoldMs,
    ]);

    sut.observe('r/0', ['a', 'b'], ['a', 'b', 'd'], now); // c moved away from partition 0
    sut.retain(new Set(['r/0'])); // resource of partition 1 deleted
    expect([sut.holdMs('r/0', 'c', now), sut.holdMs('r/1', 'c', now)]).toEqual([0, 0]);
  });
});
