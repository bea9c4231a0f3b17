import { type DataSource } from 'typeorm';
import { appendBatchToOutbox, appendToOutbox, claimInbox, createDataSource } from '@tessera/persistence';
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

  const listen = (subject: string) => {
    const seen: number[] = [];
    const sub = network.connection.subscribe(`tessera.v1.${t.cluster}.${subject}`, {
      callback: (err, msg) => {
        if (!err) seen.push((msg.json() as { n: number }).n);
      },
    });
    return { seen, stop: () => sub.unsubscribe() };
  };
  const unpublished = async (rowId: string) =>
    ((await db.query(`SELECT 1 FROM coordinator.outbox WHERE event_id = $1 AND published_at IS NULL`, [rowId])) as unknown[])
      .length;

  it('publishes a committed batch at once and marks its row, so no pass sends it again', async () => {
    const l = listen('events.test.direct');
    try {
      const events = [5, 6, 7].map((n) => ({ subject: 'events.test.direct', payload: { n } }));
      const batch = await db.transaction((m) => appendBatchToOutbox(m, 'coordinator', events));
      await sut.publishCommitted(batch);
      await waitFor('the three events', () => l.seen.length >= 3);
      expect(l.seen).toEqual([5, 6, 7]);
      expect(await unpublished(batch!.rowId)).toBe(0);
      // All three are in the stream (only the last went as a JetStream publish): the durable consumer gets them.
      await waitFor('the stream to hold all three', () => [5, 6, 7].every((n) => received.some((r) => r.payload.n === n)));
      // Passes keep running (poll 100 ms): none sends them again.
      await new Promise((r) => setTimeout(r, 500));
      expect(l.seen).toEqual([5, 6, 7]);
    } finally {
      l.stop();
    }
  });

  it('leaves a reserved batch to its publisher, and relays it once the reservation lapses', async () => {
    const l = listen('events.test.lapsed');
    try {
      const events = [8, 9].map((n) => ({ subject: 'events.test.lapsed', payload: { n } }));
      // Written but never handed to publishCommitted: its writer "died" after the commit.
      const batch = await db.transaction((m) => appendBatchToOutbox(m, 'coordinator', events));
      sut.kick();
      await new Promise((r) => setTimeout(r, 500));
      expect(l.seen).toEqual([]);
      await db.query(`UPDATE coordinator.outbox SET claimed_until = now() - interval '1 second' WHERE event_id = $1`, [
        batch!.rowId,
      ]);
      sut.kick();
      await waitFor('the batch relayed by a pass', () => l.seen.length >= 2);
      expect(l.seen).toEqual([8, 9]);
      await waitFor('its row marked published', async () => (await unpublished(batch!.rowId)) === 0);
      // Each event keeps its own id (the JetStream dedupe id), distinct from the row's.
      const ids = batch!.events.map((e) => e.payload['eventId']);
      expect(new Set([...ids, batch!.rowId]).size).toBe(3);
    } finally {
      l.stop();
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
