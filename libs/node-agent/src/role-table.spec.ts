import 'reflect-metadata';
import { type RoleAssignmentV1, TesseraError } from '@tessera/contracts';
import { RoleTable, checkConsistent } from './role-table';

const ME = 'n1';

function assignment(overrides: Partial<RoleAssignmentV1> = {}): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition: 0,
    partitionCount: 4,
    role: 'LEADER',
    leader: ME,
    leaderEpoch: '2',
    isr: [ME, 'n2'],
    replicas: [ME, 'n2'],
    ...overrides,
  };
}

const noFence = (): bigint | null => null;

describe(RoleTable.name, () => {
  let sut: RoleTable;

  beforeEach(() => {
    sut = new RoleTable(ME);
  });

  function applyAll(
    list: RoleAssignmentV1[],
    fence: (r: string, p: number) => bigint | null = noFence,
  ) {
    const decisions = sut.plan(list, fence);
    sut.commit(decisions);
    return decisions;
  }

  it('applies a first assignment and reports the role', () => {
    const [d] = applyAll([assignment()]);
    expect(d.kind).toBe('apply');
    expect(sut.role('orders', 0)).toBe('LEADER');
    expect(sut.get('orders', 0)?.epoch).toBe(2n);
  });

  it('rejects an assignment below the durable fence, naming the highest epoch', () => {
    const [d] = applyAll([assignment({ leaderEpoch: '1' })], () => 3n);
    expect(d).toMatchObject({ kind: 'reject', highestEpoch: 3n });
    expect(sut.role('orders', 0)).toBe('NONE');
  });

  it('rejects an assignment below the held epoch even if the fence lookup knows less', () => {
    applyAll([assignment({ leaderEpoch: '5' })]);
    const [d] = applyAll([assignment({ leaderEpoch: '4', role: 'FOLLOWER', leader: 'n2' })]);
    expect(d).toMatchObject({ kind: 'reject', highestEpoch: 5n });
    expect(sut.role('orders', 0)).toBe('LEADER');
  });

  it('compares epochs numerically, not as strings', () => {
    applyAll([assignment({ leaderEpoch: '9' })]);
    const [d] = applyAll([assignment({ leaderEpoch: '10', role: 'FOLLOWER', leader: 'n2' })]);
    expect(d.kind).toBe('apply');
    expect(sut.role('orders', 0)).toBe('FOLLOWER');
  });

  it('treats an identical re-send as a no-op that changes nothing', () => {
    applyAll([assignment()]);
    const before = sut.sequence;
    const [d] = applyAll([assignment()]);
    expect(d.kind).toBe('noop');
    expect(sut.sequence).toBe(before);
  });

  it('applies a membership change at the same epoch', () => {
    applyAll([assignment()]);
    const [d] = applyAll([assignment({ isr: [ME] })]);
    expect(d).toMatchObject({
      kind: 'apply',
      previous: expect.objectContaining({ isr: [ME, 'n2'] }),
    });
    expect(sut.get('orders', 0)?.assignment.isr).toEqual([ME]);
  });

  it('refuses a second leader for the same epoch', () => {
    applyAll([assignment({ role: 'FOLLOWER', leader: 'n2' })]);
    const [crown] = applyAll([assignment()]);
    expect(crown).toMatchObject({ kind: 'reject', highestEpoch: 2n });
    const [other] = applyAll([assignment({ role: 'FOLLOWER', leader: 'n3' })]);
    expect(other.kind).toBe('reject');
    expect(sut.role('orders', 0)).toBe('FOLLOWER');
  });

  it('accepts leadership at the durable epoch after a restart (nothing held yet)', () => {
    const [d] = applyAll([assignment()], () => 2n);
    expect(d.kind).toBe('apply');
    expect(sut.role('orders', 0)).toBe('LEADER');
  });

  it('decides repeated partitions in one command in order', () => {
    const decisions = applyAll([
      assignment({ leaderEpoch: '3' }),
      assignment({ leaderEpoch: '2', role: 'FOLLOWER', leader: 'n2' }),
    ]);
    expect(decisions.map((d) => d.kind)).toEqual(['apply', 'reject']);
    expect(sut.role('orders', 0)).toBe('LEADER');
  });

  it('steps down on a newer leader elsewhere, and ignores older or own announcements', () => {
    applyAll([assignment({ leaderEpoch: '2' })]);
    expect(sut.stepDownFor('orders', 0, 'n2', 2n, ['n2'])).toBeNull();
    expect(sut.stepDownFor('orders', 0, ME, 3n, [ME])).toBeNull();
    const step = sut.stepDownFor('orders', 0, 'n2', 3n, ['n2']);
    expect(step).toMatchObject({ role: 'FOLLOWER', leader: 'n2', leaderEpoch: '3', isr: ['n2'] });
    expect(applyAll([step!])[0].kind).toBe('apply');
    expect(sut.role('orders', 0)).toBe('FOLLOWER');
  });

  describe('reconcileSet', () => {
    it('drops held roles missing from the full set to NONE', () => {
      applyAll([assignment(), assignment({ partition: 1, role: 'FOLLOWER', leader: 'n2' })]);
      const startedAt = sut.sequence;
      const set = sut.reconcileSet([assignment()], startedAt);
      expect(set).toEqual([
        assignment(),
        expect.objectContaining({ partition: 1, role: 'NONE', leader: 'n2', leaderEpoch: '2' }),
      ]);
      applyAll(set);
      expect(sut.role('orders', 1)).toBe('NONE');
      expect(sut.role('orders', 0)).toBe('LEADER');
    });

    it('leaves partitions changed after the request was sent alone', () => {
      const startedAt = sut.sequence;
      applyAll([assignment()]); // a command arrives while the reconcile request is in flight
      expect(sut.reconcileSet([], startedAt)).toEqual([]);
      expect(sut.reconcileSet([assignment({ leaderEpoch: '1' })], startedAt)).toEqual([]);
    });
  });
});

describe(checkConsistent.name, () => {
  it('accepts consistent assignments', () => {
    expect(() => checkConsistent(ME, assignment())).not.toThrow();
    expect(() => checkConsistent(ME, assignment({ role: 'FOLLOWER', leader: 'n2' }))).not.toThrow();
    expect(() => checkConsistent(ME, assignment({ role: 'NONE', leader: null }))).not.toThrow();
  });

  it.each([
    ['a leader naming someone else', assignment({ leader: 'n2' })],
    ['a leader outside the ISR', assignment({ isr: ['n2'] })],
    ['a follower named leader', assignment({ role: 'FOLLOWER' })],
    ['a partition beyond the count', assignment({ partition: 4 })],
  ])('refuses %s', (_what, a) => {
    expect(() => checkConsistent(ME, a)).toThrow(TesseraError);
  });
});
