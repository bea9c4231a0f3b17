import fc from 'fast-check';

/** The faults a mixed run (RELIABILITY S21, S24) draws from. */
export const FAULT_KINDS = [
  'kill-node', // SIGKILL a kv-node, restart it with its data
  'pause-node', // SIGSTOP, then SIGCONT
  'isolate-node', // its NATS proxy drops everything both ways
  'deafen-node', // its NATS proxy drops what the server sends it
  'kill-coordinator', // SIGKILL the active coordinator, restart it (a standby takes over)
  'kill-recovery', // SIGKILL the active recovery, restart it
  'restart-nats', // SIGKILL the NATS server, restart it 3 s later (S11)
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults for a long soak (S24): a node at a time, nothing to the control plane. */
export const LIGHT_FAULT_KINDS: readonly FaultKind[] = ['kill-node', 'pause-node', 'isolate-node'];

export interface PlannedFault {
  kind: FaultKind;
  /** Which kv-node, for the node faults (an index into the fleet's nodes). */
  node: number;
  /** How long the fault lasts before it heals. */
  forMs: number;
  /** Quiet time after the heal, before the next fault. */
  gapMs: number;
}

export interface FaultPlanOptions {
  seed: number;
  /** The plan covers at least this long (faults and gaps together). */
  durationMs: number;
  nodes: number;
  kinds?: readonly FaultKind[];
  forMs?: { min: number; max: number };
  gapMs?: { min: number; max: number };
}

/**
 * A reproducible sequence of faults, one at a time, drawn with fast-check's seeded generator:
 * the same seed gives the same plan, so a failing run can be replayed.
 */
export function planFaults(options: FaultPlanOptions): PlannedFault[] {
  const kinds = options.kinds ?? FAULT_KINDS;
  const forMs = options.forMs ?? { min: 2_000, max: 8_000 };
  const gapMs = options.gapMs ?? { min: 1_000, max: 4_000 };
  const step = fc.record({
    kind: fc.constantFrom(...kinds),
    node: fc.nat({ max: options.nodes - 1 }),
    forMs: fc.integer(forMs),
    gapMs: fc.integer(gapMs),
  });
  const plan: PlannedFault[] = [];
  let total = 0;
  let seed = options.seed;
  while (total < options.durationMs) {
    const [batch] = fc.sample(fc.array(step, { minLength: 32, maxLength: 32 }), {
      seed: seed++,
      numRuns: 1,
    });
    for (const fault of batch) {
      if (total >= options.durationMs) break;
      // NATS comes back after S11's 3 s, whatever was drawn.
      const planned = fault.kind === 'restart-nats' ? { ...fault, forMs: 3_000 } : fault;
      plan.push(planned);
      total += planned.forMs + planned.gapMs;
    }
  }
  return plan;
}
