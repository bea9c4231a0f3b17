import { FAULT_KINDS, LIGHT_FAULT_KINDS, planFaults } from './fault-plan';

describe(planFaults.name, () => {
  const options = { seed: 21, durationMs: 120_000, nodes: 4 };

  it('gives the same plan for the same seed, and another for another seed', () => {
    expect(planFaults(options)).toEqual(planFaults(options));
    expect(planFaults({ ...options, seed: 22 })).not.toEqual(planFaults(options));
  });

  it('covers the duration with faults in bounds, NATS always back after 3 s', () => {
    const sut = planFaults(options);
    const total = sut.reduce((t, f) => t + f.forMs + f.gapMs, 0);
    expect(total).toBeGreaterThanOrEqual(options.durationMs);
    expect(total - sut.at(-1)!.forMs - sut.at(-1)!.gapMs).toBeLessThan(options.durationMs);
    expect(sut.some((f) => f.kind === 'restart-nats')).toBe(true); // the NATS rule is exercised
    for (const f of sut) {
      expect(f.node).toBeGreaterThanOrEqual(0);
      expect(f.node).toBeLessThan(options.nodes);
      if (f.kind === 'restart-nats') expect(f.forMs).toBe(3_000);
      expect(f.forMs).toBeGreaterThanOrEqual(2_000);
      expect(f.forMs).toBeLessThanOrEqual(8_000);
    }
  });

  it('draws from the kinds it is given, and from all of them over a long run', () => {
    const light = planFaults({ ...options, durationMs: 1_800_000, kinds: LIGHT_FAULT_KINDS });
    expect(new Set(light.map((f) => f.kind))).toEqual(new Set(LIGHT_FAULT_KINDS));
    const mixed = planFaults({ ...options, durationMs: 1_800_000 });
    expect(new Set(mixed.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
  });
});
