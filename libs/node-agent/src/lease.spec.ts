import { Lease } from './lease';

describe(Lease.name, () => {
  let now: number;
  let sut: Lease;

  beforeEach(() => {
    now = 1_000;
    sut = new Lease(600, () => now);
  });

  /** Acknowledged heartbeat sent at `sentAt`, then a reconcile started after it. */
  function confirm(sentAt: number, round: number): void {
    expect(sut.acknowledged(sentAt, round)).toBe(true);
    expect(sut.isHeld()).toBe(false);
    expect(sut.reconciled(round + 1)).toBe(true);
  }

  it('is not held before any heartbeat was acknowledged', () => {
    expect(sut.isHeld()).toBe(false);
    expect(sut.remainingMs()).toBe(Number.NEGATIVE_INFINITY);
  });

  it('needs an acknowledged heartbeat and then a reconcile started after it', () => {
    expect(sut.acknowledged(990, 3)).toBe(true);
    expect(sut.awaitingReconcile).toBe(true);
    // A reconcile that was already in flight when the ack arrived does not count.
    expect(sut.reconciled(3)).toBe(false);
    expect(sut.isHeld()).toBe(false);
    expect(sut.reconciled(4)).toBe(true);
    expect(sut.isHeld()).toBe(true);
  });

  it('runs from the send time of the acknowledged heartbeat, not its arrival', () => {
    confirm(900, 0); // sent 100 ms ago: valid until 1 500
    now = 1_499;
    expect(sut.isHeld()).toBe(true);
    now = 1_500;
    expect(sut.isHeld()).toBe(false);
    expect(sut.lapseCount).toBe(1);
  });

  it('is extended by each acknowledgement while held, without a reconcile', () => {
    confirm(1_000, 0);
    now = 1_400;
    expect(sut.acknowledged(1_390, 1)).toBe(false);
    now = 1_900;
    expect(sut.isHeld()).toBe(true);
    now = 1_990;
    expect(sut.isHeld()).toBe(false);
  });

  it('ignores an old heartbeat acknowledged late', () => {
    confirm(1_000, 0);
    now = 1_500;
    expect(sut.acknowledged(800, 1)).toBe(false);
    now = 1_600;
    expect(sut.isHeld()).toBe(false);
  });

  it('after a pause, an acknowledgement alone does not restore it (the zombie case)', () => {
    confirm(1_000, 0);
    // SIGSTOP for 10 s: on resume the first thing seen is a reply to a heartbeat sent long ago.
    now = 11_000;
    expect(sut.acknowledged(1_200, 1)).toBe(false);
    expect(sut.isHeld()).toBe(false);
    // A fresh heartbeat is acknowledged: still not held until roles are re-learned.
    now = 11_010;
    expect(sut.acknowledged(11_005, 1)).toBe(true);
    expect(sut.isHeld()).toBe(false);
    expect(sut.reconciled(2)).toBe(true);
    expect(sut.isHeld()).toBe(true);
    expect(sut.lapseCount).toBe(1);
  });

  it('latches a lapse noticed only when the next acknowledgement arrives', () => {
    confirm(1_000, 0);
    now = 2_000; // nobody asked isHeld() in between
    expect(sut.acknowledged(1_995, 5)).toBe(true);
    expect(sut.isHeld()).toBe(false);
    expect(sut.lapseCount).toBe(1);
  });

  it('voids a pending confirmation when the lease runs out again before the reconcile', () => {
    expect(sut.acknowledged(1_000, 1)).toBe(true);
    now = 1_700; // lapsed again while the reconcile was slow
    expect(sut.reconciled(2)).toBe(false);
    expect(sut.acknowledged(1_690, 2)).toBe(true);
    // Round 2 started before this acknowledgement: only a later one confirms.
    expect(sut.reconciled(2)).toBe(false);
    expect(sut.reconciled(3)).toBe(true);
  });

  it('refuses a lease that is not positive', () => {
    expect(() => new Lease(0, () => 0)).toThrow(RangeError);
  });
});
