import 'reflect-metadata';
import {
  electOutcome,
  type OperationRecord,
  progressOf,
  reasonOf,
  reconcileDelayMs,
  rereplicationSteps,
  toOperationV1,
} from './operation-view';

describe(electOutcome.name, () => {
  it("reads consensus's counts", () => {
    expect(electOutcome({ ok: true, elected: 4, offline: 1, changed: 6 })).toEqual({
      elected: 4,
      offline: 1,
      changed: 6,
    });
  });

  it('reads a missing or odd count as 0', () => {
    expect(electOutcome({ elected: -1, offline: '2', changed: 1.5 })).toEqual({
      elected: 0,
      offline: 0,
      changed: 0,
    });
    expect(electOutcome(null)).toEqual({ elected: 0, offline: 0, changed: 0 });
  });
});

describe(progressOf.name, () => {
  it('counts partitions that got a leader out of those that needed one', () => {
    expect(progressOf({ elected: 4, offline: 1, changed: 9 })).toEqual({ done: 4, total: 5 });
    expect(progressOf({ elected: 0, offline: 0, changed: 0 })).toEqual({ done: 0, total: 0 });
  });
});

describe(reasonOf.name, () => {
  it('reads the reason kept with the elect step', () => {
    expect(reasonOf([{ name: 'elect', state: 'PENDING', reason: 'NODE_RETURNED' }])).toBe(
      'NODE_RETURNED',
    );
  });

  it('falls back to RECONCILE for steps it cannot read', () => {
    expect(reasonOf([{ name: 'elect', state: 'PENDING' }])).toBe('RECONCILE');
    expect(reasonOf([{ name: 'elect', reason: 'DRAIN' }])).toBe('RECONCILE');
    expect(reasonOf({})).toBe('RECONCILE');
    expect(reasonOf([null, 3])).toBe('RECONCILE');
  });
});

describe(reconcileDelayMs.name, () => {
  it('doubles with each failure in a row, up to a ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => reconcileDelayMs(n))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000,
    ]);
  });
});

describe(toOperationV1.name, () => {
  it('maps a row to the admin shape, the node as its subject', () => {
    const row: OperationRecord = {
      id: '5d0f3f0e-8f4b-4b4e-9a53-0e4b8f0c1a22',
      kind: 'FAILOVER',
      state: 'SUCCEEDED',
      node_id: 'n3',
      done: 4,
      total: 5,
      steps: [],
      started_at: new Date('2025-01-01T00:00:00Z'),
      finished_at: new Date('2025-01-01T00:00:01Z'),
      error: null,
      due_at: null,
    };
    expect(toOperationV1(row)).toEqual({
      id: row.id,
      kind: 'FAILOVER',
      state: 'SUCCEEDED',
      subject: 'n3',
      progress: { done: 4, total: 5 },
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:01.000Z',
      error: null,
    });
    expect(toOperationV1({ ...row, finished_at: null, state: 'RUNNING' })).toMatchObject({
      state: 'RUNNING',
      finishedAt: null,
    });
  });
});

describe(rereplicationSteps.name, () => {
  const row: OperationRecord = {
    id: '5d0f3f0e-8f4b-4b4e-9a53-0e4b8f0c1a23',
    kind: 'REREPLICATE',
    state: 'RUNNING',
    node_id: 'n2',
    done: 3,
    total: 10,
    steps: [
      { name: 'grace', deathAt: '2025-01-01T00:00:00.000Z', graceMs: 30_000 },
      { name: 'replace', state: 'RUNNING', coordinatorOperationId: 'c0ffee00-0000-4000-8000-000000000001' },
    ],
    started_at: new Date('2025-01-01T00:00:00.200Z'),
    finished_at: null,
    error: null,
    due_at: new Date('2025-01-01T00:00:30Z'),
  };

  it('reads the grace wait and the coordinator migration it follows', () => {
    expect(rereplicationSteps(row)).toEqual([
      { name: 'grace', deathAt: '2025-01-01T00:00:00.000Z', graceMs: 30_000 },
      { name: 'replace', state: 'RUNNING', coordinatorOperationId: 'c0ffee00-0000-4000-8000-000000000001' },
    ]);
    expect(toOperationV1(row)).toMatchObject({ kind: 'REREPLICATE', dueAt: '2025-01-01T00:00:30.000Z' });
  });

  it('rebuilds what it cannot read instead of failing the operation', () => {
    expect(rereplicationSteps({ ...row, steps: 'garbage' })).toEqual([
      { name: 'grace', deathAt: '2025-01-01T00:00:00.200Z', graceMs: 0 },
    ]);
    expect(rereplicationSteps({ ...row, steps: [{ name: 'replace', state: 'WHATEVER', coordinatorOperationId: 7 }] })).toEqual([
      { name: 'grace', deathAt: '2025-01-01T00:00:00.200Z', graceMs: 0 },
      { name: 'replace', state: 'RUNNING', coordinatorOperationId: null },
    ]);
  });
});
