import { type DataSource } from 'typeorm';
import { appendToOutbox, claimInbox, createDataSource } from '@tessera/persistence';
import { createTestEnv, type TestEnv, waitFor } from '@tessera/testing';
import { NetworkManager } from './network-manager';
import { OutboxRelay } from './outbox-relay';

describe(OutboxRelay.name, () => {
  let t: TestEnv;
  let db: DataSource;
  let network: NetworkManager;
  let sut: OutboxRelay;
  const received: { subject: string; payload: { eventId: string; n: number } }[] = [];

  beforeAll(async () => {
    t = await createTestEnv('outbox');
    db = createDataSource({ url: t.databaseUrl });
    await db.initialize();
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'outbox-test');
    await network.connect();
    await network.ensureEventStream();
    await network.consumeEvents('outbox-test', 'events.test.>', async (payload, subject) => {
      received.push({ subject, payload: payload as { eventId: string; n: number } });
    });
    sut = new OutboxRelay(db, 'coordinator', network, undefined, { pollMs: 100 });
    sut.start();
  });

  afterAll(async () => {
    await sut?.stop();
    await network?.close();
    await db?.destroy();
    await t?.destroy();
  });

  it('relays events committed with a transaction, in order, and marks them published', async () => {
    await db.transaction(async (m) => {
      await appendToOutbox(m, 'coordinator', [1, 2, 3].map((n) => ({ subject: 'events.test.a', payload: { n } })));
    });
    sut.kick();
    await waitFor('three events', () => received.length >= 3);
    expect(received.map((r) => r.payload.n)).toEqual([1, 2, 3]);
    expect(received[0].subject).toBe(`tessera.v1.${t.cluster}.events.test.a`);
    await waitFor('the backlog to drain', async () => (await sut.backlog()) === 0);
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    const before = received.length;
    await expect(
      db.transaction(async (m) => {
        await appendToOutbox(m, 'coordinator', [{ subject: 'events.test.b', payload: { n: 99 } }]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await db.transaction(async (m) => {
      await appendToOutbox(m, 'coordinator', [{ subject: 'events.test.b', payload: { n: 4 } }]);
    });
    sut.kick();
    await waitFor('the committed event', () => received.some((r) => r.payload.n === 4));
    expect(received.slice(before).map((r) => r.payload.n)).toEqual([4]);
  });

  it('publishes committed events at once and marks them, so no pass sends them again', async () => {
    const seen: number[] = [];
    const sub = network.connection.subscribe(`tessera.v1.${t.cluster}.events.test.direct`, {
      callback: (err, msg) => {
        if (!err) seen.push((msg.json() as { n: number }).n);
      },
    });
    try {
      const events = [5, 6, 7].map((n) => ({ subject: 'events.test.direct', payload: { n } }));
      const stored = await db.transaction((m) => appendToOutbox(m, 'coordinator', events));
      await sut.publishCommitted(stored.map((payload, i) => ({ subject: events[i].subject, payload })));
      await waitFor('the three events', () => seen.length >= 3);
      expect(seen).toEqual([5, 6, 7]);
      // Whichever path claimed them (this call, or a pass that got there first) marks them.
      await waitFor('the events marked published', async () => {
        const unpublished: unknown[] = await db.query(
          `SELECT 1 FROM coordinator.outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL`,
          [stored.map((p) => p['eventId'])],
        );
        return unpublished.length === 0;
      });
      // Passes keep running (poll 100 ms): none sends them again.
      await new Promise((r) => setTimeout(r, 500));
      expect(seen).toEqual([5, 6, 7]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('lets a consumer process a redelivered event once (inbox)', async () => {
    const eventId = received[0].payload.eventId;
    const first = await db.transaction((m) => claimInbox(m, 'coordinator', eventId));
    const again = await db.transaction((m) => claimInbox(m, 'coordinator', eventId));
    expect([first, again]).toEqual([true, false]);
  });

  it('refuses to write an outbox row outside a transaction', async () => {
    await expect(appendToOutbox(db.manager, 'coordinator', [{ subject: 'events.test.c', payload: {} }])).rejects.toThrow(
      /inside a transaction/,
    );
  });
});
