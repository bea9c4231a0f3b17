import fc from 'fast-check';
import { DEFAULT_PHI_ACCRUAL_OPTIONS, PhiAccrualDetector, phiOf } from './phi-accrual-detector';

const INTERVAL = 200;

/** Feeds `count` heartbeats with the given gaps starting at `startMs`; returns the last arrival. */
function feed(sut: PhiAccrualDetector, nodeId: string, gaps: number[], startMs = 0): number {
  let now = startMs;
  sut.heartbeat(nodeId, now);
  for (const gap of gaps) {
    now += gap;
    sut.heartbeat(nodeId, now);
  }
  return now;
}

const regularGaps = (count: number, jitter: number) =>
  fc.array(fc.integer({ min: INTERVAL - jitter, max: INTERVAL + jitter }), {
    minLength: 0,
    maxLength: count,
  });

describe(phiOf.name, () => {
  it('is log10(2) at the mean and about 8 five std-devs past it', () => {
    expect(phiOf(450, 450, 100)).toBeCloseTo(Math.log10(2), 12);
    expect(phiOf(450 + 5.22 * 100, 450, 100)).toBeCloseTo(8, 1);
  });

  it('stays finite however long the silence', () => {
    const phi = phiOf(1e9, 200, 1);

    expect(Number.isFinite(phi)).toBe(true);
    expect(phi).toBeGreaterThan(1e6);
  });

  it('is non-negative and non-decreasing in the elapsed time', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 5_000, noNaN: true }),
        fc.double({ min: 1, max: 2_000, noNaN: true }),
        (a, b, mean, std) => {
          const [early, late] = a <= b ? [a, b] : [b, a];
          const phiEarly = phiOf(early, mean, std);

          expect(phiEarly).toBeGreaterThanOrEqual(0);
          expect(phiOf(late, mean, std)).toBeGreaterThanOrEqual(phiEarly);
        },
      ),
    );
  });
});

describe(PhiAccrualDetector.name, () => {
  it('reports phi 0 for a node it has never heard from', () => {
    const sut = new PhiAccrualDetector();

    expect(sut.phi('ghost', 10_000)).toBe(0);
  });

  it('bootstraps a node from its first heartbeat with the first-heartbeat estimate', () => {
    const sut = new PhiAccrualDetector();
    sut.heartbeat('n1', 1_000);

    expect(sut.stats('n1')).toEqual({
      samples: 2,
      meanMs: 200,
      stdDeviationMs: 50,
      lastArrivalMs: 1_000,
    });
    expect(sut.phi('n1', 1_200)).toBeLessThan(0.1);
    expect(sut.phi('n1', 1_000 + 1_100)).toBeGreaterThan(8);
  });

  it('reaches phi 3 after about 760 ms and phi 8 after about 975 ms of silence with the defaults', () => {
    const sut = new PhiAccrualDetector();
    const last = feed(sut, 'n1', Array<number>(50).fill(INTERVAL));

    expect(sut.phi('n1', last + 740)).toBeLessThan(3);
    expect(sut.phi('n1', last + 780)).toBeGreaterThanOrEqual(3);
    expect(sut.phi('n1', last + 960)).toBeLessThan(8);
    expect(sut.phi('n1', last + 990)).toBeGreaterThanOrEqual(8);
  });

  it('gives a jittery node more slack than a steady one', () => {
    const sut = new PhiAccrualDetector();
    const steady = feed(sut, 'steady', Array<number>(100).fill(INTERVAL));
    const jittery = feed(
      sut,
      'jittery',
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 50 : 350)),
    );

    expect(sut.phi('jittery', jittery + 900)).toBeLessThan(sut.phi('steady', steady + 900));
  });

  it('forgets old samples as the window slides', () => {
    const sut = new PhiAccrualDetector({ maxSampleSize: 10 });
    const last = feed(sut, 'n1', [
      ...Array<number>(10).fill(1_000),
      ...Array<number>(10).fill(INTERVAL),
    ]);

    expect(sut.stats('n1')?.meanMs).toBeCloseTo(INTERVAL, 9);
    expect(sut.stats('n1')?.lastArrivalMs).toBe(last);
  });

  it('does not sample intervals longer than maxSampleIntervalMs (outages, restarts)', () => {
    const sut = new PhiAccrualDetector();
    const last = feed(sut, 'n1', [INTERVAL, INTERVAL, 30_000, INTERVAL]);

    expect(sut.stats('n1')).toMatchObject({ samples: 5, lastArrivalMs: last });
    expect(sut.stats('n1')?.meanMs).toBeCloseTo(INTERVAL, 9);
  });

  it('ignores negative intervals instead of corrupting the statistics', () => {
    const sut = new PhiAccrualDetector();
    feed(sut, 'n1', [INTERVAL, INTERVAL]);
    sut.heartbeat('n1', 100);

    expect(sut.stats('n1')).toMatchObject({ samples: 4, lastArrivalMs: 100 });
  });

  it('starts a fresh history after remove', () => {
    const sut = new PhiAccrualDetector();
    feed(sut, 'n1', Array<number>(20).fill(1_000));
    sut.remove('n1');

    expect(sut.has('n1')).toBe(false);
    expect(sut.phi('n1', 99_999)).toBe(0);
    sut.heartbeat('n1', 50_000);
    expect(sut.stats('n1')).toMatchObject({ samples: 2, meanMs: 200 });
  });

  it('refuses invalid options and non-finite times', () => {
    expect(() => new PhiAccrualDetector({ minStdDeviationMs: 0 })).toThrow(RangeError);
    expect(() => new PhiAccrualDetector({ acceptableHeartbeatPauseMs: -1 })).toThrow(RangeError);
    expect(() => new PhiAccrualDetector({ maxSampleSize: 1 })).toThrow(RangeError);
    expect(() => new PhiAccrualDetector({ firstHeartbeatEstimateMs: Number.NaN })).toThrow(
      RangeError,
    );
    expect(() => new PhiAccrualDetector().heartbeat('n1', Number.POSITIVE_INFINITY)).toThrow(
      RangeError,
    );
  });

  it('keeps the documented defaults', () => {
    expect(DEFAULT_PHI_ACCRUAL_OPTIONS).toEqual({
      firstHeartbeatEstimateMs: 200,
      maxSampleSize: 200,
      minStdDeviationMs: 100,
      acceptableHeartbeatPauseMs: 250,
      maxSampleIntervalMs: 2_000,
    });
  });

  describe('catch-up after a stall of the monitor', () => {
    /** The monitor froze `stallMs` after `last`; heartbeats kept coming every INTERVAL and are read at `last + stallMs`. */
    function stallAndCatchUp(sut: PhiAccrualDetector, last: number, stallMs: number): number {
      const readAt = last + stallMs;
      sut.beginCatchUp();
      for (let sent = last + INTERVAL; sent <= readAt; sent += INTERVAL)
        sut.heartbeat('n1', readAt);
      sut.endCatchUp();
      return readAt;
    }

    it('counts heartbeats read late as arrivals when they are read', () => {
      const sut = new PhiAccrualDetector();
      const last = feed(sut, 'n1', Array<number>(20).fill(INTERVAL));
      const readAt = stallAndCatchUp(sut, last, 2_000);

      expect(sut.stats('n1')?.lastArrivalMs).toBe(readAt);
      expect(sut.phi('n1', readAt + 1)).toBeLessThan(0.1);
    });

    it('samples no interval touching the stall: neither the long one nor the burst', () => {
      const sut = new PhiAccrualDetector();
      const last = feed(sut, 'n1', Array<number>(20).fill(INTERVAL));
      const readAt = stallAndCatchUp(sut, last, 2_000);
      sut.heartbeat('n1', readAt + 120); // the first one after the burst: still off its rhythm
      sut.heartbeat('n1', readAt + 320);

      expect(sut.stats('n1')?.samples).toBe(23);
      expect(sut.stats('n1')?.meanMs).toBeCloseTo(INTERVAL, 9);
    });

    it('gives a node that is silent no credit for the stall', () => {
      const sut = new PhiAccrualDetector();
      const last = feed(sut, 'n1', Array<number>(20).fill(INTERVAL));
      const before = sut.phi('n1', last + 1_500);
      sut.beginCatchUp();
      sut.endCatchUp();

      expect(sut.phi('n1', last + 1_500)).toBe(before);
    });

    it('tracks a node first heard during a catch-up without sampling its burst', () => {
      const sut = new PhiAccrualDetector();
      sut.beginCatchUp();
      sut.heartbeat('n2', 5_000);
      sut.heartbeat('n2', 5_000);
      sut.endCatchUp();
      sut.heartbeat('n2', 5_150);

      expect(sut.stats('n2')).toMatchObject({ samples: 2, meanMs: 200, lastArrivalMs: 5_150 });
    });

    it('leaves a live node unsuspected and its window at its rhythm, for any stall and history', () => {
      fc.assert(
        fc.property(
          regularGaps(100, 150),
          fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 5 }),
          fc.integer({ min: INTERVAL - 150, max: INTERVAL + 150 }),
          (gaps, stalls, nextGap) => {
            const sut = new PhiAccrualDetector();
            let last = feed(sut, 'n1', gaps);
            const mean = sut.stats('n1')?.meanMs ?? 0;
            for (const stall of stalls) {
              last = stallAndCatchUp(sut, last, stall);
              expect(sut.phi('n1', last)).toBeLessThan(3);
              last = feed(sut, 'n1', [nextGap, INTERVAL], last + nextGap);
            }

            expect(sut.phi('n1', last + nextGap)).toBeLessThan(3);
            // Only on-rhythm intervals were sampled: the mean stays within the jitter.
            expect(sut.stats('n1')?.meanMs).toBeGreaterThanOrEqual(Math.min(mean, INTERVAL - 150));
            expect(sut.stats('n1')?.meanMs).toBeLessThanOrEqual(Math.max(mean, INTERVAL + 150));
          },
        ),
      );
    });
  });

  describe('properties', () => {
    it('phi never decreases while a node stays silent', () => {
      fc.assert(
        fc.property(
          regularGaps(100, 190),
          fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 2, maxLength: 20 }),
          (gaps, probes) => {
            const sut = new PhiAccrualDetector();
            const last = feed(sut, 'n1', gaps);
            const phis = [...probes].sort((a, b) => a - b).map((t) => sut.phi('n1', last + t));

            phis.slice(1).forEach((phi, i) => expect(phi).toBeGreaterThanOrEqual(phis[i]));
          },
        ),
      );
    });

    it('regular heartbeats (±150 ms jitter) never push phi to the suspect level of 3', () => {
      fc.assert(
        fc.property(
          regularGaps(300, 150),
          fc.integer({ min: INTERVAL - 150, max: INTERVAL + 150 }),
          (gaps, nextGap) => {
            const sut = new PhiAccrualDetector();
            const last = feed(sut, 'n1', gaps);
            // The worst moment is just before the next heartbeat arrives.
            expect(sut.phi('n1', last + nextGap)).toBeLessThan(3);
          },
        ),
      );
    });

    it('phi reaches 8 within 1.2 s of silence after any history with up to ±50 ms jitter', () => {
      fc.assert(
        fc.property(regularGaps(300, 50), (gaps) => {
          const sut = new PhiAccrualDetector();
          const last = feed(sut, 'n1', gaps);

          expect(sut.phi('n1', last + 1_200)).toBeGreaterThanOrEqual(8);
        }),
      );
    });

    it('is deterministic: the same heartbeats give the same phi', () => {
      fc.assert(
        fc.property(regularGaps(100, 190), fc.integer({ min: 0, max: 5_000 }), (gaps, silence) => {
          const a = new PhiAccrualDetector();
          const b = new PhiAccrualDetector();

          expect(a.phi('n', feed(a, 'n', gaps) + silence)).toBe(
            b.phi('n', feed(b, 'n', gaps) + silence),
          );
        }),
      );
    });
  });
});
