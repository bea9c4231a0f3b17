import fc from 'fast-check';
import {
  DEFAULT_LIVENESS_THRESHOLDS,
  type LivenessTransition,
  NodeLivenessTracker,
} from './node-liveness-tracker';

const INTERVAL = 200;
const TICK = 50; // how often the health service is expected to call evaluate

/**
 * Fake-time cluster: each node heartbeats at its own scheduled times, and the monitor evaluates
 * every TICK ms. Returns every transition in order.
 */
function simulate(
  sut: NodeLivenessTracker,
  heartbeats: Record<string, number[]>,
  untilMs: number,
  onTick?: (nowMs: number) => void,
): LivenessTransition[] {
  const arrivals = Object.entries(heartbeats)
    .flatMap(([nodeId, times]) => times.map((at) => ({ nodeId, at })))
    .sort((a, b) => a.at - b.at);
  const transitions: LivenessTransition[] = [];
  let next = 0;
  for (let now = 0; now <= untilMs; now += TICK) {
    while (next < arrivals.length && arrivals[next].at <= now) {
      sut.heartbeat(arrivals[next].nodeId, arrivals[next].at);
      next++;
    }
    onTick?.(now);
    transitions.push(...sut.evaluate(now));
  }
  return transitions;
}

/**
 * Like `simulate`, but the monitor freezes during each `[from, to)` of `stalls` (no tick runs, no
 * heartbeat is read), as health does when its event loop stalls. Its first tick after a freeze
 * fires late, so it begins a catch-up, reads what queued up (arrival = when read), ends the
 * catch-up and only then evaluates — the order HealthMonitor keeps (timer, poll phase, setImmediate).
 */
function simulateWithStalls(
  sut: NodeLivenessTracker,
  heartbeats: Record<string, number[]>,
  stalls: readonly { from: number; to: number }[],
  untilMs: number,
): LivenessTransition[] {
  const arrivals = Object.entries(heartbeats)
    .flatMap(([nodeId, times]) => times.map((at) => ({ nodeId, at })))
    .sort((a, b) => a.at - b.at);
  const frozen = (t: number) => stalls.some((s) => t >= s.from && t < s.to);
  const transitions: LivenessTransition[] = [];
  let next = 0;
  let late = false;
  for (let now = 0; now <= untilMs; now += TICK) {
    if (frozen(now)) {
      late = true;
      continue;
    }
    if (late) sut.beginCatchUp();
    for (; next < arrivals.length && arrivals[next].at <= now; next++) {
      const { nodeId, at } = arrivals[next];
      // Read when it arrived, unless it arrived while the monitor was frozen: then only now.
      sut.heartbeat(nodeId, frozen(at) || late ? Math.max(at, now) : at);
    }
    if (late) sut.endCatchUp();
    late = false;
    transitions.push(...sut.evaluate(now));
  }
  return transitions;
}

/** Heartbeat times every INTERVAL ms with the given jitters, from `startMs` until `endMs` (exclusive). */
function schedule(startMs: number, endMs: number, jitters: number[] = []): number[] {
  const times: number[] = [];
  for (let i = 0, t = startMs; t < endMs; i++, t += INTERVAL) {
    times.push(t + (jitters.length > 0 ? jitters[i % jitters.length] : 0));
  }
  return times;
}

const firstDeath = (transitions: LivenessTransition[], nodeId: string) =>
  transitions.find((t) => t.nodeId === nodeId && t.to === 'DEAD');

describe(NodeLivenessTracker.name, () => {
  it('reports a newly heard-of node as ALIVE with no previous state', () => {
    const sut = new NodeLivenessTracker();
    sut.heartbeat('kv-1', 0);

    expect(sut.evaluate(10)).toEqual([
      { nodeId: 'kv-1', from: null, to: 'ALIVE', phi: expect.any(Number), atMs: 10 },
    ]);
    expect(sut.evaluate(20)).toEqual([]);
    expect(sut.state('kv-1')).toBe('ALIVE');
  });

  it('walks a silent node ALIVE → SUSPECT → DEAD', () => {
    const sut = new NodeLivenessTracker();
    const transitions = simulate(sut, { 'kv-1': schedule(0, 10_000) }, 12_000);

    expect(transitions.map(({ from, to }) => [from, to])).toEqual([
      [null, 'ALIVE'],
      ['ALIVE', 'SUSPECT'],
      ['SUSPECT', 'DEAD'],
    ]);
  });

  it('declares a node DEAD when it is silent for 5 intervals', () => {
    const sut = new NodeLivenessTracker();
    const lastBeat = 9_800;
    const transitions = simulate(
      sut,
      { 'kv-1': schedule(0, lastBeat + 1) },
      lastBeat + 5 * INTERVAL,
    );

    expect(firstDeath(transitions, 'kv-1')?.atMs).toBeLessThanOrEqual(lastBeat + 5 * INTERVAL);
  });

  it('brings a SUSPECT node back to ALIVE when its heartbeats resume', () => {
    const sut = new NodeLivenessTracker();
    const beats = [...schedule(0, 5_000), 5_700, ...schedule(5_900, 8_000)]; // one 900 ms hiccup

    const transitions = simulate(sut, { 'kv-1': beats }, 8_000);

    expect(transitions.map(({ from, to }) => [from, to])).toEqual([
      [null, 'ALIVE'],
      ['ALIVE', 'SUSPECT'],
      ['SUSPECT', 'ALIVE'],
    ]);
  });

  it('holds SUSPECT until phi drops below alivePhi (hysteresis)', () => {
    const sut = new NodeLivenessTracker({ alivePhi: 0.5 });
    simulate(sut, { 'kv-1': schedule(0, 2_001) }, 2_000);
    expect(sut.evaluate(2_800)).toEqual([
      expect.objectContaining({ from: 'ALIVE', to: 'SUSPECT' }),
    ]);

    sut.heartbeat('kv-1', 2_900);
    const between = sut.phi('kv-1', 3_600);
    expect(between).toBeGreaterThan(0.5);
    expect(between).toBeLessThan(3);
    expect(sut.evaluate(3_600)).toEqual([]); // below suspectPhi is not enough to be ALIVE again

    sut.heartbeat('kv-1', 3_700);
    expect(sut.evaluate(3_700)).toEqual([
      expect.objectContaining({ from: 'SUSPECT', to: 'ALIVE' }),
    ]);
  });

  it('revives a DEAD node only after reviveHeartbeats heartbeats, with a fresh history', () => {
    const sut = new NodeLivenessTracker();
    simulate(sut, { 'kv-1': schedule(0, 2_000) }, 4_000);
    expect(sut.state('kv-1')).toBe('DEAD');

    sut.heartbeat('kv-1', 30_000);
    sut.heartbeat('kv-1', 30_200);
    expect(sut.evaluate(30_250)).toEqual([]);
    sut.heartbeat('kv-1', 30_400);

    expect(sut.evaluate(30_450)).toEqual([expect.objectContaining({ from: 'DEAD', to: 'ALIVE' })]);
    // The 26 s outage was not sampled: the window holds the bootstrap pair and two real intervals.
    expect(sut.detector.stats('kv-1')).toMatchObject({ samples: 4, meanMs: 200 });
  });

  it('restarts the revival streak when a returning node falls silent again', () => {
    const sut = new NodeLivenessTracker();
    sut.track('kv-1', 0, 'DEAD');
    sut.heartbeat('kv-1', 1_000);
    sut.heartbeat('kv-1', 1_200);
    expect(sut.evaluate(5_000)).toEqual([]); // silent again before the third heartbeat

    sut.heartbeat('kv-1', 6_000);
    expect(sut.evaluate(6_050)).toEqual([]);
    sut.heartbeat('kv-1', 6_200);
    sut.heartbeat('kv-1', 6_400);
    expect(sut.evaluate(6_450)).toEqual([expect.objectContaining({ from: 'DEAD', to: 'ALIVE' })]);
  });

  it('tracks persisted nodes without reporting them, giving ALIVE ones a grace period', () => {
    const sut = new NodeLivenessTracker();
    sut.track('kv-1', 0, 'ALIVE');
    sut.track('kv-2', 0, 'DEAD');

    expect(sut.evaluate(100)).toEqual([]);
    expect(sut.evaluate(2_000)).toEqual([
      expect.objectContaining({ nodeId: 'kv-1', from: 'ALIVE', to: 'DEAD' }),
    ]);
    expect(sut.state('kv-2')).toBe('DEAD');
  });

  it('reports nothing for a removed node', () => {
    const sut = new NodeLivenessTracker();
    sut.heartbeat('kv-1', 0);
    sut.evaluate(0);
    sut.remove('kv-1');

    expect(sut.evaluate(10_000)).toEqual([]);
    expect(sut.state('kv-1')).toBeUndefined();
    expect(sut.snapshot(10_000)).toEqual([]);
  });

  it('refuses thresholds that are out of order', () => {
    expect(() => new NodeLivenessTracker({ suspectPhi: 8, deadPhi: 3 })).toThrow(RangeError);
    expect(() => new NodeLivenessTracker({ alivePhi: 5, suspectPhi: 3 })).toThrow(RangeError);
    expect(() => new NodeLivenessTracker({ reviveHeartbeats: 0 })).toThrow(RangeError);
  });

  it('keeps the documented default thresholds', () => {
    expect(DEFAULT_LIVENESS_THRESHOLDS).toEqual({
      suspectPhi: 3,
      deadPhi: 8,
      alivePhi: 1,
      reviveHeartbeats: 3,
    });
  });

  it('does not suspect anyone when its own event loop stalls and it catches up before judging', () => {
    const sut = new NodeLivenessTracker();
    const beats = { 'kv-1': schedule(0, 10_000), 'kv-2': schedule(37, 10_000) };

    const transitions = simulateWithStalls(sut, beats, [{ from: 4_010, to: 6_000 }], 10_000);

    expect(transitions.filter((t) => t.from !== null)).toEqual([]);
  });

  it('gives a node that died during its stall no credit for the stall', () => {
    const sut = new NodeLivenessTracker();
    // kv-1 is killed at 4.1 s; the monitor is frozen from 4.01 s to 9 s.
    const beats = { 'kv-1': schedule(0, 4_100), 'kv-2': schedule(37, 12_000) };

    const transitions = simulateWithStalls(sut, beats, [{ from: 4_010, to: 9_000 }], 12_000);

    expect(firstDeath(transitions, 'kv-1')?.atMs).toBe(9_000);
    expect(firstDeath(transitions, 'kv-2')).toBeUndefined();
  });

  it('judges nobody while deaf (its NATS link down), nor during the grace after it hears again', () => {
    const sut = new NodeLivenessTracker();
    // The NATS server is gone from 4 s to 7 s; health hears again at 7.1 s; the nodes reconnect
    // and heartbeat again at 7.3 s and 7.9 s, the latest within the 2 s grace.
    const beats = {
      'kv-1': [...schedule(0, 4_000), ...schedule(7_300, 12_000)],
      'kv-2': [...schedule(37, 4_000), ...schedule(7_937, 12_000)],
    };
    const transitions = simulate(sut, beats, 12_000, (now) => {
      if (now === 4_000) sut.deafen();
      if (now === 7_100) sut.hear(now, 2_000);
    });

    expect(transitions.filter((t) => t.from !== null)).toEqual([]);
    expect(sut.isDeaf(9_099)).toBe(true);
    expect(sut.isDeaf(9_100)).toBe(false);
  });

  it('declares a node that died while it was deaf DEAD right after the grace', () => {
    const sut = new NodeLivenessTracker();
    // kv-1 dies during the outage (4 s to 7 s) and never comes back; kv-2 does.
    const beats = {
      'kv-1': schedule(0, 4_000),
      'kv-2': [...schedule(37, 4_000), ...schedule(7_337, 12_000)],
    };
    const transitions = simulate(sut, beats, 12_000, (now) => {
      if (now === 4_000) sut.deafen();
      if (now === 7_100) sut.hear(now, 2_000);
    });

    expect(firstDeath(transitions, 'kv-1')?.atMs).toBe(9_100);
    expect(firstDeath(transitions, 'kv-2')).toBeUndefined();
  });

  it('leaves a node that was DEAD before the outage DEAD, and still revives one heard from', () => {
    const sut = new NodeLivenessTracker();
    sut.track('kv-1', 0, 'DEAD');
    sut.deafen();
    expect(sut.evaluate(100)).toEqual([]);
    sut.hear(200, 2_000);
    for (const at of [300, 500, 700, 900]) sut.heartbeat('kv-1', at);

    expect(sut.evaluate(950).map((t) => [t.from, t.to])).toEqual([['DEAD', 'ALIVE']]);
  });

  describe('properties', () => {
    it('a SIGKILLed node is DEAD within 1.5 s of the kill', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 2_000, max: 20_000 }),
          fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 50 }),
          (killAt, jitters) => {
            const sut = new NodeLivenessTracker();
            const transitions = simulate(
              sut,
              { 'kv-1': schedule(0, killAt, jitters) },
              killAt + 2_000,
            );
            const death = firstDeath(transitions, 'kv-1');

            expect(death).toBeDefined();
            expect(death!.atMs - killAt).toBeLessThanOrEqual(1_500);
          },
        ),
        { numRuns: 50 },
      );
    });

    it('nodes that heartbeat again within the grace after an outage of any length are never suspected', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1_000, max: 10_000 }),
          fc.integer({ min: 100, max: 15_000 }),
          fc.integer({ min: 0, max: 500 }),
          fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 3, maxLength: 3 }),
          (outageAt, outageMs, healthBackMs, nodesBackMs) => {
            const sut = new NodeLivenessTracker();
            const back = outageAt + outageMs;
            const heardAt = Math.ceil((back + healthBackMs) / TICK) * TICK;
            const beats = Object.fromEntries(
              nodesBackMs.map((lag, i) => [
                `kv-${i}`,
                [...schedule(i * 17, outageAt), ...schedule(back + lag, back + 6_000)],
              ]),
            );
            const deafAt = Math.ceil(outageAt / TICK) * TICK;
            const transitions = simulate(sut, beats, back + 6_000, (now) => {
              if (now === deafAt) sut.deafen();
              if (now === heardAt) sut.hear(now, 2_000);
            });

            expect(transitions.filter((t) => t.from !== null)).toEqual([]);
          },
        ),
        { numRuns: 100 },
      );
    });

    it('nodes heartbeating on time (±150 ms jitter) are never suspected', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: -150, max: 150 }), { minLength: 1, maxLength: 100 }),
          fc.array(fc.integer({ min: -150, max: 150 }), { minLength: 1, maxLength: 100 }),
          (jittersA, jittersB) => {
            const sut = new NodeLivenessTracker();
            const transitions = simulate(
              sut,
              { 'kv-1': schedule(150, 20_000, jittersA), 'kv-2': schedule(150, 20_000, jittersB) },
              20_000,
            );

            expect(transitions.map((t) => t.to)).toEqual(['ALIVE', 'ALIVE']);
          },
        ),
        { numRuns: 50 },
      );
    });

    const stallsArb = fc.array(
      fc.record({
        from: fc.integer({ min: 1_000, max: 18_000 }),
        length: fc.integer({ min: 1, max: 5_000 }),
      }),
      { maxLength: 4 },
    );
    const toStalls = (xs: { from: number; length: number }[]) =>
      xs.map(({ from, length }) => ({ from, to: from + length }));

    it('nodes heartbeating on time are never suspected, however the monitor stalls', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: -150, max: 150 }), { minLength: 1, maxLength: 100 }),
          stallsArb,
          (jitters, stalls) => {
            const sut = new NodeLivenessTracker();
            const transitions = simulateWithStalls(
              sut,
              { 'kv-1': schedule(150, 20_000, jitters), 'kv-2': schedule(80, 20_000) },
              toStalls(stalls),
              20_000,
            );

            expect(transitions.map((t) => t.to)).toEqual(['ALIVE', 'ALIVE']);
          },
        ),
        { numRuns: 100 },
      );
    });

    it('a stall of the monitor delays a death no further than reading its last heartbeat late', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 2_000, max: 15_000 }),
          fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 50 }),
          stallsArb,
          (killAt, jitters, stallList) => {
            const sut = new NodeLivenessTracker();
            const stalls = toStalls(stallList).sort((a, b) => a.from - b.from);
            const beats = schedule(0, killAt, jitters);
            const transitions = simulateWithStalls(sut, { 'kv-1': beats }, stalls, 25_000);
            const death = firstDeath(transitions, 'kv-1');
            const afterStalls = (t: number) => {
              let at = t;
              for (const s of stalls)
                if (at >= s.from && at < s.to) at = Math.ceil(s.to / TICK) * TICK;
              return at;
            };
            // Its last heartbeat counts when it was read: at the monitor's next tick, or after the
            // stall that tick fell in (a beat 1 ms before a stall is read only after it). From
            // there (or the kill) it is DEAD within 1.5 s, or at the first tick after a stall
            // covering that moment; the stall itself earns it no further credit.
            const lastRead = afterStalls(Math.ceil(Math.max(...beats) / TICK) * TICK);
            // The monitor only judges on its ticks, and after a stall it first reads what queued
            // (one tick) before judging: the deadline is the tick after next.
            const due =
              Math.ceil(afterStalls(Math.max(killAt, lastRead) + 1_500) / TICK) * TICK + TICK;

            expect(death).toBeDefined();
            expect(death!.atMs).toBeLessThanOrEqual(due);
          },
        ),
        {
          numRuns: 100,
          examples: [
            [14_801, [0, 0, 1, 0], [{ from: 14_802, length: 599 }]],
            [5_601, [1, 0], [{ from: 5_602, length: 649 }]],
            [4_401, [-14, 0], [{ from: 4_387, length: 814 }]],
            [2_001, [1], [{ from: 2_002, length: 799 }]],
          ],
        },
      );
    });

    it('transitions chain: each starts where the previous one for that node ended', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 60 }),
          (gaps) => {
            const sut = new NodeLivenessTracker();
            let at = 0;
            const beats = gaps.map((g) => (at += g));
            const transitions = simulate(sut, { 'kv-1': beats }, at + 10_000);
            const states = transitions.map((t) => t.to);

            transitions.slice(1).forEach((t, i) => expect(t.from).toBe(states[i]));
            transitions.forEach((t) => expect(t.from).not.toBe(t.to));
            expect(states.at(-1)).toBe('DEAD');
          },
        ),
        { numRuns: 100 },
      );
    });
  });
});
