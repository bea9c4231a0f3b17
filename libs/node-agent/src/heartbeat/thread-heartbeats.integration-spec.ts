import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { NetworkManager } from '@tessera/messaging';
import { waitFor } from '@tessera/testing';
import { ThreadHeartbeats } from './thread-heartbeats';

/** Keeps this thread busy, as a node applying thousands of roles does. */
function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe(ThreadHeartbeats.name, () => {
  const cluster = `hbthread${randomBytes(3).toString('hex')}`;
  const servers = [process.env['TESSERA_NATS_URL'] ?? 'nats://127.0.0.1:4222'];
  const health = new NetworkManager(cluster, { servers }, 'health-test');
  const agent = new NetworkManager(cluster, { servers }, 'agent-test');
  /** Wall-clock send times of the heartbeats health received. */
  let beats: number[];
  let replies: number[];
  let sut: ThreadHeartbeats;

  beforeAll(async () => {
    await health.connect();
    await agent.connect();
    health.subscribe('health.node.kv-1.heartbeat', (msg) => {
      const body = msg.json<{ sentAt: string; nodeId: string }>();
      beats.push(Date.parse(body.sentAt));
      NetworkManager.respond(msg, { ok: true });
    });
  });
  afterAll(async () => {
    await health.close();
    await agent.close();
  });

  beforeEach(() => {
    beats = [];
    replies = [];
    sut = new ThreadHeartbeats({
      connection: agent.threadConnection('heartbeats'),
      subject: agent.subject('health.node.kv-1.heartbeat'),
      stallLimitMs: 1_000,
    });
    sut.start(
      { nodeId: 'kv-1', incarnation: 1, intervalMs: 100, timeoutMs: 5_000 },
      { replied: (sentAt) => replies.push(sentAt), failed: () => undefined },
    );
  });
  afterEach(() => sut.stop());

  it('keeps beating from its own thread while the agent’s loop is blocked', async () => {
    sut.alive();
    await waitFor('the first heartbeat', () => beats.length > 0);
    const blockedFrom = Date.now();
    const clockFrom = performance.now();
    blockFor(800);
    const blockedTo = Date.now();
    await waitFor('the heartbeats sent during the block', () =>
      beats.filter((t) => t >= blockedFrom && t <= blockedTo).length >= 5 ? true : undefined,
    );
    // Replies are translated into the agent's clock by their send time, not their arrival.
    await waitFor('their replies', () =>
      replies.filter((t) => t > clockFrom + 50 && t < clockFrom + 750).length >= 5 ? true : undefined,
    );
  });

  it('falls silent when the agent’s loop stops calling alive(), and beats again when it does', async () => {
    sut.alive();
    await waitFor('the first heartbeat', () => beats.length > 0);
    const lastAlive = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    // Nothing sent after the stall limit (1 s) and one interval of slack.
    expect(beats.filter((t) => t > lastAlive + 1_200)).toEqual([]);
    const resumed = Date.now();
    sut.alive();
    await waitFor('heartbeats again', () => beats.some((t) => t >= resumed));
  });
});
