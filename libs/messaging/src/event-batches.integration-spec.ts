import { randomUUID } from 'node:crypto';
import { createTestEnv, type TestEnv, waitFor } from '@tessera/testing';
import { NetworkManager } from './network-manager';

describe(`${NetworkManager.name}.consumeEventBatches`, () => {
  let t: TestEnv;
  let network: NetworkManager;

  beforeAll(async () => {
    t = await createTestEnv('eventbatches', { migrate: false });
    network = new NetworkManager(t.cluster, { servers: [t.natsUrl] }, 'event-batches-test');
    await network.connect();
    await network.ensureEventStream();
  });

  afterAll(async () => {
    await network?.close();
    await t?.destroy();
  });

  const publish = (subject: string, ns: number[]) =>
    network.publishEvents(
      ns.map((n) => {
        const eventId = randomUUID();
        return { subject, payload: { eventId, n }, eventId };
      }),
    );

  it('hands over what queued while the handler was busy, in order, at most maxBatch at once', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const firstBusy = new Promise<void>((r) => (release = r));
    await network.consumeEventBatches('batches-a', 'events.test.a', 4, async (events) => {
      batches.push(events.map((e) => (e.payload as { n: number }).n));
      if (batches.length === 1) await firstBusy;
    });
    await publish('events.test.a', [1]);
    await waitFor('the first batch', () => batches.length === 1);
    await publish('events.test.a', [2, 3, 4, 5, 6, 7]);
    // Let all six queue behind the busy handler before it returns.
    await new Promise((r) => setTimeout(r, 300));
    release();
    await waitFor('every event', () => batches.flat().length === 7);
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
  });

  it('retries a failed batch as a whole, and acks it once handled', async () => {
    const calls: number[][] = [];
    await network.consumeEventBatches('batches-b', 'events.test.b', 8, async (events) => {
      calls.push(events.map((e) => (e.payload as { n: number }).n));
      if (calls.length === 1) throw new Error('the store is down');
    });
    await publish('events.test.b', [1, 2, 3]);
    await waitFor('the retry', () => calls.length >= 2, { timeoutMs: 10_000 });
    await waitFor('all three handled', () => calls.slice(1).flat().length >= 3, {
      timeoutMs: 10_000,
    });
    // The failed batch came back once; anything not in it came once.
    expect(calls.slice(1).flat().sort()).toEqual([1, 2, 3]);
    // Acked: nothing comes again.
    const seen = calls.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(calls.length).toBe(seen);
  });
});
