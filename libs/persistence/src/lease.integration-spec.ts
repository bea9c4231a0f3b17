import { type DataSource } from 'typeorm';
import { isTesseraError } from '@tessera/contracts';
import { randomBytes } from 'node:crypto';
import { createDataSource, DEFAULT_DATABASE_URL, dropDatabase, runMigrations } from './data-source';
import { Lease } from './lease';

describe(Lease.name, () => {
  // Its own database (libs/testing depends on this lib, so the factory is not used here).
  const url = new URL(process.env['TESSERA_DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  url.pathname = `/tessera_test_lease${randomBytes(3).toString('hex')}`;
  let db: DataSource;

  beforeAll(async () => {
    await runMigrations(url.toString());
    db = createDataSource({ url: url.toString(), poolSize: 12 });
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(url.toString());
  });

  const waitUntil = async (condition: () => boolean, timeoutMs = 3_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const expire = (role: string) =>
    db.query(`UPDATE coordinator.lease SET expires_at = now() - interval '1 second' WHERE role = $1`, [role]);

  it('S18: 8 contenders × 300 rounds on real Postgres, exactly one winner per round, terms strictly increasing', async () => {
    const role = 's18';
    const contenders = Array.from({ length: 8 }, (_, i) => new Lease(db, 'coordinator', role, `c${i}`, { ttlMs: 60_000, renewEveryMs: 1_000 }));
    let lastTerm = 0n;
    for (let round = 0; round < 300; round++) {
      // Nobody renews in this test: each round starts from an expired grant, all race at once.
      for (const c of contenders) await c.stop();
      await expire(role);
      const won = await Promise.all(contenders.map((c) => c.tryAcquire()));
      const winners = contenders.filter((_, i) => won[i]);
      expect(winners).toHaveLength(1);
      const term = winners[0].term!;
      expect(term > lastTerm).toBe(true);
      lastTerm = term;
    }
    expect(lastTerm).toBe(300n);
  }, 120_000);

  it('fences a paused ex-holder: its write fails once a standby has taken over', async () => {
    const role = 'fence';
    const old = new Lease(db, 'coordinator', role, 'old', { ttlMs: 60_000, renewEveryMs: 1_000 });
    const standby = new Lease(db, 'coordinator', role, 'standby', { ttlMs: 60_000, renewEveryMs: 1_000 });
    expect(await old.tryAcquire()).toBe(true);
    expect(await standby.tryAcquire()).toBe(false);
    // The holder "pauses" past its grant; the standby takes over.
    await expire(role);
    expect(await standby.tryAcquire()).toBe(true);
    expect(standby.term).toBe(2n);
    // The old holder still believes it is active locally (its TTL was long), yet cannot write.
    expect(old.isActive).toBe(true);
    const error = await db.transaction((m) => old.fence(m)).catch((e: unknown) => e);
    expect(isTesseraError(error, 'FENCED')).toBe(true);
    expect(old.isActive).toBe(false);
    await expect(db.transaction((m) => standby.fence(m))).resolves.toBe(2n);
  });

  it('makes a takeover wait for a write in flight under the old term', async () => {
    const role = 'inflight';
    const holder = new Lease(db, 'coordinator', role, 'holder', { ttlMs: 60_000, renewEveryMs: 1_000 });
    const standby = new Lease(db, 'coordinator', role, 'standby', { ttlMs: 60_000, renewEveryMs: 1_000 });
    await holder.tryAcquire();
    await expire(role); // the grant is over in Postgres; the holder has not noticed yet
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fenced!: () => void;
    const fenceTaken = new Promise<void>((r) => (fenced = r));
    const write = db.transaction(async (m) => {
      await holder.fence(m);
      fenced();
      await gate;
      order.push('write committed');
    });
    await fenceTaken;
    const takeover = standby.tryAcquire().then((ok) => order.push(`takeover ${ok}`));
    await new Promise((r) => setTimeout(r, 100));
    release();
    await Promise.all([write, takeover]);
    expect(order).toEqual(['write committed', 'takeover true']);
    expect(standby.term).toBe(2n);
  });

  it('tells its listeners the lease is lost when the grant runs out while a renewal hangs (S8)', async () => {
    const role = 'hung';
    const sut = new Lease(db, 'coordinator', role, 'holder', { ttlMs: 1_200, renewEveryMs: 300, safetyMarginMs: 200 });
    const changes: { active: boolean; at: number }[] = [];
    sut.onChange((active) => changes.push({ active, at: performance.now() }));
    sut.start();
    try {
      await waitUntil(() => sut.isActive);
      // Another session holds the lease row: every renewal now waits on the lock, as one sent
      // over a connection that went dark would wait for an answer.
      const blocker = db.createQueryRunner();
      await blocker.connect();
      await blocker.startTransaction();
      await blocker.query(`SELECT 1 FROM coordinator.lease WHERE role = $1 FOR UPDATE`, [role]);
      const blockedAt = performance.now();
      try {
        await waitUntil(() => changes.some((c) => !c.active), 5_000);
        const lost = changes.find((c) => !c.active)!;
        // Within one grant of the block (less the margin), not whenever the renewal returns.
        expect(lost.at - blockedAt).toBeLessThanOrEqual(1_200);
        expect(sut.isActive).toBe(false);
      } finally {
        await blocker.rollbackTransaction();
        await blocker.release();
      }
      // The row free again, the holder is back: at its term if a renewal sent late enough came
      // back in time, else at the next one once its grant lapsed (nobody else contends here).
      await waitUntil(() => sut.isActive, 5_000);
      expect([1n, 2n]).toContain(sut.term);
    } finally {
      await sut.stop();
    }
  });

  it('hands the role over at once on a clean stop', async () => {
    const a = new Lease(db, 'coordinator', 'handover', 'a', { ttlMs: 60_000, renewEveryMs: 1_000 });
    const b = new Lease(db, 'coordinator', 'handover', 'b', { ttlMs: 60_000, renewEveryMs: 1_000 });
    expect(await a.tryAcquire()).toBe(true);
    await a.stop();
    expect(await b.tryAcquire()).toBe(true);
  });
});
