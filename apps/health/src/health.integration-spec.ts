import 'reflect-metadata';
import { connect, type Msg, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { fullSubject, Subjects } from '@tessera/contracts';
import {
  type AppProcess,
  createTestEnv,
  freePort,
  startApp,
  stopAll,
  type TestEnv,
  waitFor,
} from '@tessera/testing';
import { HealthMonitor } from './liveness/health-monitor.service';

interface LivenessEvent {
  nodeId: string;
  state: string;
  previous: string | null;
  receivedAt: number;
}

interface ListedNode {
  nodeId: string;
  state: string;
  lastHeartbeatAt: string | null;
  phi: number | null;
}

const HEARTBEAT_MS = 200;
const DEAD_BOUND_MS = 1_500;


describe(HealthMonitor.name, () => {
  let t: TestEnv;
  let nc: NatsConnection;
  let sut: AppProcess;
  let port: number;
  let events: Subscription;
  const received: LivenessEvent[] = [];
  const heartbeaters = new Map<string, { timer: NodeJS.Timeout; lastSentAt: number }>();
  const subject = (relative: string) => fullSubject(t.cluster, relative);

  const startHealth = async () => {
    const app = startApp(
      'health',
      t.env({ TESSERA_HTTP_PORT: String(port), TESSERA_HTTP_HOST: '127.0.0.1' }),
    );
    await waitFor(
      'health to answer health.node.list',
      async () => (await listNodes()) !== undefined,
      {
        timeoutMs: 20_000,
      },
    );
    return app;
  };

  async function listNodes(): Promise<ListedNode[] | undefined> {
    const reply = await nc.request(subject(Subjects.health.listNodes), JSON.stringify({}), {
      timeout: 1_000,
    });
    const body = reply.json<{ ok: boolean; nodes?: ListedNode[] }>();
    return body.ok ? body.nodes : undefined;
  }

  async function stateOf(nodeId: string): Promise<string | undefined> {
    return (await listNodes())?.find((n) => n.nodeId === nodeId)?.state;
  }

  function heartbeat(nodeId: string, seq: number): void {
    const payload = { nodeId, incarnation: 1, seq, sentAt: new Date().toISOString() };
    nc.publish(subject(Subjects.health.heartbeat(nodeId)), JSON.stringify(payload));
  }

  function startHeartbeats(nodeId: string): void {
    let seq = 0;
    const entry = { lastSentAt: 0, timer: undefined as unknown as NodeJS.Timeout };
    const beat = () => {
      heartbeat(nodeId, seq++);
      entry.lastSentAt = Date.now();
    };
    beat();
    entry.timer = setInterval(beat, HEARTBEAT_MS);
    heartbeaters.set(nodeId, entry);
  }

  function stopHeartbeats(nodeId: string): number {
    const entry = heartbeaters.get(nodeId)!;
    clearInterval(entry.timer);
    heartbeaters.delete(nodeId);
    return entry.lastSentAt;
  }

  /** Sends a heartbeat as a request and returns the refusal code (accepted ones say ok). */
  async function refusalOf(relative: string, data: string | Uint8Array): Promise<string> {
    const reply: Msg = await nc.request(subject(relative), data, { timeout: 2_000 });
    return reply.json<{ ok: boolean; code: string }>().code;
  }

  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  async function persistedLiveness(): Promise<Record<string, string>> {
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ node_id: string; state: string }>(
        'SELECT node_id, state FROM health.node_liveness',
      );
      return Object.fromEntries(rows.map((r) => [r.node_id, r.state]));
    } finally {
      await db.end();
    }
  }

  const eventsOf = (nodeId: string) =>
    received.filter((e) => e.nodeId === nodeId).map((e) => `${e.previous}->${e.state}`);

  beforeAll(async () => {
    t = await createTestEnv('health');
    nc = await connect({ servers: t.natsUrl });
    port = await freePort();
    events = nc.subscribe(subject(Subjects.events.nodeLiveness), {
      callback: (_err, msg) => {
        const e = msg.json<Omit<LivenessEvent, 'receivedAt'>>();
        received.push({
          nodeId: e.nodeId,
          state: e.state,
          previous: e.previous,
          receivedAt: Date.now(),
        });
      },
    });
    sut = await startHealth();
  }, 40_000);

  afterAll(async () => {
    for (const id of [...heartbeaters.keys()]) stopHeartbeats(id);
    await stopAll([sut].filter(Boolean));
    events?.unsubscribe();
    await nc?.close();
    await t?.destroy();
  }, 30_000);

  it('marks a heartbeating node ALIVE, persists it once and announces it', async () => {
    startHeartbeats('n1');
    await waitFor('n1 ALIVE', async () => (await stateOf('n1')) === 'ALIVE', { timeoutMs: 5_000 });
    await waitFor('the ALIVE event', () => eventsOf('n1').includes('null->ALIVE'), {
      timeoutMs: 5_000,
    });
    const listed = (await listNodes())!.find((n) => n.nodeId === 'n1')!;
    expect(Date.parse(listed.lastHeartbeatAt!)).toBeGreaterThan(Date.now() - 5_000);
    expect(listed.phi).toBeLessThan(1);
    expect((await persistedLiveness())['n1']).toBe('ALIVE');
    expect(await metric('tessera_heartbeats_received_total')).toBeGreaterThan(0);
  });

  it('acknowledges a heartbeat sent as a request (it renews the node’s leader lease)', async () => {
    const beat = { nodeId: 'n1', incarnation: 1, seq: 10_000, sentAt: new Date().toISOString() };
    const reply = await nc.request(subject(Subjects.health.heartbeat('n1')), JSON.stringify(beat), {
      timeout: 2_000,
    });
    expect(reply.json()).toEqual({ ok: true });
  });

  it('declares a silent node DEAD within the bound, each change announced once', async () => {
    const lastSentAt = stopHeartbeats('n1');
    const dead = await waitFor(
      'the DEAD event of n1',
      () => received.find((e) => e.nodeId === 'n1' && e.state === 'DEAD'),
      {
        timeoutMs: 5_000,
        intervalMs: 10,
      },
    );
    expect(dead.receivedAt - lastSentAt).toBeLessThanOrEqual(DEAD_BOUND_MS);
    expect(eventsOf('n1')).toEqual(['null->ALIVE', 'ALIVE->SUSPECT', 'SUSPECT->DEAD']);
    expect(await stateOf('n1')).toBe('DEAD');
    expect((await persistedLiveness())['n1']).toBe('DEAD');
  });

  it('refuses forged and malformed heartbeats without changing anything or crashing', async () => {
    startHeartbeats('n2');
    await waitFor('n2 ALIVE', async () => (await stateOf('n2')) === 'ALIVE', { timeoutMs: 5_000 });
    const refusedBefore = await metric('tessera_heartbeats_refused_total');
    const valid = { nodeId: 'n3', incarnation: 1, seq: 0, sentAt: new Date().toISOString() };

    // n2's subject carrying n3's heartbeat: the identity in the subject must be the payload's.
    expect(await refusalOf(Subjects.health.heartbeat('n2'), JSON.stringify(valid))).toBe(
      'FORBIDDEN',
    );
    const garbage: (string | Uint8Array)[] = [
      'not json',
      new Uint8Array([0xff, 0xfe, 0x00]),
      '[]',
      'null',
      '42',
      '{}',
      JSON.stringify({ ...valid, seq: -1 }),
      JSON.stringify({ ...valid, incarnation: '1' }),
      JSON.stringify({ ...valid, sentAt: 'now' }),
      JSON.stringify({ ...valid, extra: true }),
      JSON.stringify({ ...valid, nodeId: 'n3.x' }),
      JSON.stringify({ ...valid, nodeId: 'x'.repeat(10_000) }),
      '{"__proto__":{"nodeId":"n3"},"constructor":{"prototype":{"polluted":true}}}',
    ];
    for (const data of garbage) {
      expect(['INVALID', 'INVALID_JSON']).toContain(
        await refusalOf(Subjects.health.heartbeat('n3'), data),
      );
    }
    // A heartbeat from an older incarnation than the node's current one is a previous process.
    expect(
      await refusalOf(
        Subjects.health.heartbeat('n2'),
        JSON.stringify({ ...valid, nodeId: 'n2', incarnation: 0 }),
      ),
    ).toBe('STALE_EPOCH');

    const nodes = (await listNodes())!;
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['n1', 'n2']);
    expect(nodes.find((n) => n.nodeId === 'n2')!.state).toBe('ALIVE');
    expect(Object.keys(await persistedLiveness()).sort()).toEqual(['n1', 'n2']);
    // Every refusal but INVALID_JSON (answered by the transport before health sees it) is counted.
    expect(
      await metric('tessera_heartbeats_refused_total', 'reason="identity"'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      (await metric('tessera_heartbeats_refused_total')) - refusedBefore,
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric('tessera_heartbeats_refused_total', 'reason="invalid"'),
    ).toBeGreaterThanOrEqual(garbage.length - 2);
    expect(received.some((e) => e.nodeId === 'n3')).toBe(false);
  });

  it('holds its own stall against no live node, and gives a silent one no credit for it', async () => {
    startHeartbeats('n4');
    await waitFor('n4 ALIVE', async () => (await stateOf('n4')) === 'ALIVE', { timeoutMs: 5_000 });
    const eventsBefore = received.length;
    // n4 falls silent; half a second later (its last heartbeat read, phi still low) health
    // freezes for 3 s while n2 keeps heartbeating into its socket.
    stopHeartbeats('n4');
    await new Promise((r) => setTimeout(r, 500));
    sut.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, 3_000));
    sut.signal('SIGCONT');

    await waitFor('the DEAD event of n4', () => eventsOf('n4').includes('ALIVE->DEAD'), {
      timeoutMs: 5_000,
    });
    // n2's heartbeats queued during the stall were read before anyone was judged.
    expect(received.slice(eventsBefore).filter((e) => e.nodeId === 'n2')).toEqual([]);
    expect(await stateOf('n2')).toBe('ALIVE');
    // n4 was silent for the whole stall: straight to DEAD at the first verdict after it, not
    // ALIVE → SUSPECT → DEAD a second later as if the stall had been silence-free.
    expect(eventsOf('n4')).toEqual(['null->ALIVE', 'ALIVE->DEAD']);
  });

  it('keeps live nodes ALIVE and dead ones DEAD across its own restart', async () => {
    const eventsBefore = received.length;
    await sut.stop();
    sut = await startHealth();
    expect(await stateOf('n2')).toBe('ALIVE');
    expect(await stateOf('n1')).toBe('DEAD');
    // Proving an absence needs a window: longer than it takes to declare a silent node DEAD.
    await new Promise((r) => setTimeout(r, DEAD_BOUND_MS + 500));
    expect(await stateOf('n2')).toBe('ALIVE');
    expect(received.slice(eventsBefore)).toEqual([]);
  });
});
