import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Msg, type NatsConnection, connect } from 'nats';
import { type RoleAssignmentV1, Subjects, fullSubject } from '@tessera/contracts';
import { type AppProcess, type TestEnv, createTestEnv, startApp, waitFor } from '@tessera/testing';

const NODES = ['kv-a', 'kv-b', 'kv-c'] as const;
type NodeId = (typeof NODES)[number];

interface Reply {
  ok: boolean;
  code?: string;
  message?: string;
  epoch?: string;
  offset?: number;
  value?: string | null;
}

interface LogLine {
  offset: number;
  epoch: string;
  key: string;
  value: string;
}

interface ReportRow {
  resource: string;
  partition: number;
  role: string;
  leaderEpoch: string;
  logEndOffset: number;
}

/** One partition's assignment for `node`, as consensus would send it. */
function roleFor(
  node: NodeId,
  epoch: number,
  leader: NodeId,
  isr: NodeId[],
  replicas: NodeId[],
): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition: 0,
    partitionCount: 1,
    role: leader === node ? 'LEADER' : replicas.includes(node) ? 'FOLLOWER' : 'NONE',
    leader,
    leaderEpoch: String(epoch),
    isr,
    replicas,
  };
}

/**
 * Three built kv-nodes as real processes, replicating one partition; this test plays the whole
 * control plane over NATS: registration, heartbeat acknowledgements (the nodes' leases), role
 * reconciles and role commands. Checks the data plane's promises: acks only once every ISR
 * member has the write on disk, no acknowledged write lost when the leader is killed, writes
 * refused below the minimum ISR, leaders that lose their lease (or are paused) stop serving, and
 * a returning node truncates a suffix the leader does not have.
 */
describe('kv-node replication', () => {
  let t: TestEnv;
  let nc: NatsConnection;
  const dirs = new Map<NodeId, string>();
  const processes = new Map<NodeId, AppProcess>();
  const started: AppProcess[] = [];
  const control = {
    roles: new Map<NodeId, RoleAssignmentV1[]>(),
    /** Nodes whose heartbeats health "does not hear" (no acknowledgement). */
    muted: new Set<string>(),
    /** Nodes whose role queries consensus leaves unanswered (they time out). */
    unanswered: new Set<string>(),
    roleQueries: new Map<string, number>(),
    registrations: new Map<string, number>(),
    reports: [] as { nodeId: string; at: number; replicas: ReportRow[] }[],
  };
  /** Every put acknowledged so far: key → value. */
  const acknowledged = new Map<string, string>();

  const subject = (relative: string) => fullSubject(t.cluster, relative);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const json = (m: Msg): unknown => JSON.parse(new TextDecoder().decode(m.data));
  const lastToken = (s: string) => s.slice(s.lastIndexOf('.') + 1);

  async function ask(relative: string, payload: unknown, timeout = 3_000): Promise<Reply> {
    return json(await nc.request(subject(relative), encode(payload), { timeout })) as Reply;
  }

  const put = (key: string, value: string, timeout?: number) =>
    ask(Subjects.kv.put('orders', 0), { key, value }, timeout);
  const get = (key: string) => ask(Subjects.kv.get('orders', 0), { key });

  async function assign(node: NodeId, a: RoleAssignmentV1): Promise<void> {
    control.roles.set(node, a.role === 'NONE' ? [] : [a]);
    const reply = await ask(Subjects.node.assignRoles(node), { nodeId: node, assignments: [a] });
    expect(reply).toEqual({ ok: true, accepted: 1, rejected: [] });
  }

  /** Assigns the partition to every node named in `replicas` (others get NONE). */
  async function assignAll(
    epoch: number,
    leader: NodeId,
    isr: NodeId[],
    replicas: NodeId[],
    nodes: readonly NodeId[] = NODES,
  ): Promise<void> {
    for (const node of nodes) await assign(node, roleFor(node, epoch, leader, isr, replicas));
  }

  function start(node: NodeId): AppProcess {
    const p = startApp(
      'kv-node',
      t.env({ TESSERA_NODE_ID: node, KV_DATA_DIR: dirs.get(node)!, KV_ACK_TIMEOUT_MS: '1000' }),
      node,
    );
    processes.set(node, p);
    started.push(p);
    return p;
  }

  function logOf(node: NodeId): LogLine[] {
    let text = '';
    try {
      text = readFileSync(join(dirs.get(node)!, 'data', 'orders', '0.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as LogLine);
  }

  /** The latest value per key in a node's log on disk. */
  function valuesOn(node: NodeId): Map<string, string> {
    return new Map(logOf(node).map((r) => [r.key, r.value]));
  }

  async function waitServing(probeKey = 'probe', timeoutMs = 5_000): Promise<void> {
    await waitFor(
      'the leader to serve',
      async () => (await get(probeKey).catch(() => ({ ok: false }))).ok,
      { timeoutMs },
    );
  }

  async function putAll(prefix: string, count: number): Promise<void> {
    const replies = await Promise.all(
      Array.from({ length: count }, (_, i) => put(`${prefix}${i}`, `${prefix}-value-${i}`)),
    );
    replies.forEach((r, i) => {
      expect(r).toMatchObject({ ok: true });
      acknowledged.set(`${prefix}${i}`, `${prefix}-value-${i}`);
    });
  }

  beforeAll(async () => {
    t = await createTestEnv('kvrepl', { migrate: false });
    for (const node of NODES) dirs.set(node, mkdtempSync(join(tmpdir(), `tessera-${node}-`)));
    nc = await connect({ servers: t.natsUrl });
    let incarnation = 0;
    nc.subscribe(subject(Subjects.coordinator.registerNode), {
      callback: (_err, m) => {
        const { nodeId } = json(m) as { nodeId: string };
        control.registrations.set(nodeId, (control.registrations.get(nodeId) ?? 0) + 1);
        m.respond(
          encode({ ok: true, nodeId, heartbeatIntervalMs: 100, incarnation: ++incarnation }),
        );
      },
    });
    nc.subscribe(subject(Subjects.health.heartbeatPattern), {
      callback: (_err, m) => {
        if (!control.muted.has(lastToken(m.subject))) m.respond(encode({ ok: true }));
      },
    });
    nc.subscribe(subject(Subjects.consensus.nodeRolesPattern), {
      callback: (_err, m) => {
        const node = lastToken(m.subject) as NodeId;
        control.roleQueries.set(node, (control.roleQueries.get(node) ?? 0) + 1);
        if (control.unanswered.has(node)) return;
        m.respond(encode({ ok: true, assignments: control.roles.get(node) ?? [] }));
      },
    });
    nc.subscribe(subject(Subjects.replication.reportPattern), {
      callback: (_err, m) => {
        const r = json(m) as { nodeId: string; replicas: ReportRow[] };
        control.reports.push({ ...r, at: Date.now() });
      },
    });
    await nc.flush();
    for (const node of NODES) start(node);
    await waitFor(
      'every node to register',
      () => NODES.every((n) => control.registrations.has(n)),
      {
        timeoutMs: 20_000,
      },
    );
  }, 30_000);

  afterAll(async () => {
    for (const p of started) {
      p.signal('SIGCONT');
      p.signal('SIGKILL');
    }
    await Promise.all(started.map((p) => p.exited));
    await nc?.close();
    await t?.destroy();
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a put only once every ISR member has it on disk', async () => {
    await assignAll(1, 'kv-a', ['kv-a', 'kv-b', 'kv-c'], ['kv-a', 'kv-b', 'kv-c']);
    await waitServing();
    await putAll('first', 40);
    // No waiting: an acknowledgement means the followers had fsynced the write already.
    for (const follower of ['kv-b', 'kv-c'] as const) {
      const onDisk = valuesOn(follower);
      for (const [key, value] of acknowledged)
        expect([follower, key, onDisk.get(key)]).toEqual([follower, key, value]);
    }
    expect(await get('first7')).toEqual({ ok: true, value: 'first-value-7', epoch: '1' });
    // Followers report their durable positions, so replication can tell who caught up.
    await waitFor('follower reports at the leader’s log end', () =>
      (['kv-b', 'kv-c'] as const).every((node) =>
        control.reports.some(
          (r) =>
            r.nodeId === node &&
            r.replicas.some(
              (row) =>
                row.role === 'FOLLOWER' && row.leaderEpoch === '1' && row.logEndOffset === 40,
            ),
        ),
      ),
    );
  });

  it('refuses writes while the ISR is below KV_MIN_ISR, writing nothing', async () => {
    const before = logOf('kv-a').length;
    await assign('kv-a', roleFor('kv-a', 1, 'kv-a', ['kv-a'], ['kv-a', 'kv-b', 'kv-c']));
    const refused = await put('lonely', 'nope');
    expect(refused).toMatchObject({ ok: false, code: 'NOT_ENOUGH_REPLICAS' });
    expect(refused.message).toContain('nothing was written');
    expect(logOf('kv-a')).toHaveLength(before);
    await assign(
      'kv-a',
      roleFor('kv-a', 1, 'kv-a', ['kv-a', 'kv-b', 'kv-c'], ['kv-a', 'kv-b', 'kv-c']),
    );
    await putAll('again', 5);
  });

  it('fails a put the ISR never confirms with an unknown outcome, and keeps it invisible', async () => {
    // The followers stop fetching (the control plane took them off the partition, but not yet
    // out of the leader's ISR): the leader appends, waits, and must not acknowledge.
    for (const node of ['kv-b', 'kv-c'] as const)
      await assign(node, roleFor(node, 1, 'kv-a', ['kv-a', 'kv-b', 'kv-c'], ['kv-a']));
    const unconfirmed = await put('orphan', 'never-acknowledged');
    expect(unconfirmed).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(unconfirmed.message).toContain('may or may not survive');
    expect(logOf('kv-a').map((r) => r.key)).toContain('orphan'); // on the leader's disk only
    expect(await get('orphan')).toMatchObject({ ok: true, value: null }); // but never visible
  });

  it('keeps every acknowledged write when the leader is killed and a follower takes over', async () => {
    const a = processes.get('kv-a')!;
    a.signal('SIGKILL');
    await a.exited;
    await assignAll(2, 'kv-b', ['kv-b', 'kv-c'], ['kv-b', 'kv-c', 'kv-a'], ['kv-b', 'kv-c']);
    await waitServing();
    for (const [key, value] of acknowledged)
      expect([key, (await get(key)).value]).toEqual([key, value]);
    expect(await get('orphan')).toMatchObject({ ok: true, value: null, epoch: '2' });
    await putAll('second', 10);
    const onC = valuesOn('kv-c');
    for (const [key, value] of acknowledged) expect([key, onC.get(key)]).toEqual([key, value]);
  });

  it('stops serving as leader when its heartbeats go unacknowledged for the lease', async () => {
    control.muted.add('kv-b');
    const mutedAt = Date.now();
    await waitFor(
      'kv-b to refuse as its lease lapses',
      async () => (await get('first1')).code === 'NOT_LEADER',
      { timeoutMs: 3_000, intervalMs: 20 },
    );
    // 600 ms lease from the last acknowledged heartbeat, plus request time.
    expect(Date.now() - mutedAt).toBeLessThan(1_500);
    expect(await put('lease-probe', 'x')).toMatchObject({ ok: false, code: 'NOT_LEADER' });
    control.muted.delete('kv-b');
    await waitServing('first1');
    await putAll('third', 3);
  });

  it('a paused leader answers its buffered requests with NOT_LEADER and learns it was replaced', async () => {
    const b = processes.get('kv-b')!;
    b.signal('SIGSTOP');
    // Buffered in kv-b's socket while it is stopped: only kv-b serves the partition now.
    const buffered = put('zombie', 'must-not-be-accepted', 10_000);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 1_200)); // well past the 600 ms lease
    // Meanwhile the control plane elects kv-c; kv-b is not told (it is stopped) — only the
    // role reconcile it must do on resume will tell it.
    control.roles.set('kv-b', [roleFor('kv-b', 3, 'kv-c', ['kv-c', 'kv-b'], ['kv-c', 'kv-b'])]);
    await assign('kv-c', roleFor('kv-c', 3, 'kv-c', ['kv-c', 'kv-b'], ['kv-c', 'kv-b']));
    const queries = control.roleQueries.get('kv-b') ?? 0;
    b.signal('SIGCONT');
    expect(await buffered).toMatchObject({ ok: false, code: 'NOT_LEADER' });
    await waitFor('kv-b to reconcile', () => (control.roleQueries.get('kv-b') ?? 0) > queries);
    await waitFor('kv-b to report itself a follower at epoch 3', () =>
      control.reports.some(
        (r) =>
          r.nodeId === 'kv-b' &&
          r.replicas.some((row) => row.role === 'FOLLOWER' && row.leaderEpoch === '3'),
      ),
    );
    await waitServing();
    // The new leader's acknowledgements need kv-b's fetches: it follows kv-c now.
    await putAll('fourth', 5);
    expect(valuesOn('kv-b').get('fourth4')).toBe('fourth-value-4');
    expect(valuesOn('kv-b').has('zombie')).toBe(false);
    expect(valuesOn('kv-c').has('zombie')).toBe(false);
  });

  it('a restarted node truncates the suffix the leader does not have, then catches up', async () => {
    const offsetOfOrphan = logOf('kv-a').findIndex((r) => r.key === 'orphan');
    expect(offsetOfOrphan).toBeGreaterThan(0);
    const registrations = control.registrations.get('kv-a') ?? 0;
    start('kv-a');
    await waitFor(
      'kv-a to register again',
      () => control.registrations.get('kv-a')! > registrations,
      {
        timeoutMs: 20_000,
      },
    );
    // Make-before-break: kv-a joins as a follower outside the ISR.
    const replicas: NodeId[] = ['kv-c', 'kv-b', 'kv-a'];
    await assign('kv-c', roleFor('kv-c', 3, 'kv-c', ['kv-c', 'kv-b'], replicas));
    await assign('kv-b', roleFor('kv-b', 3, 'kv-c', ['kv-c', 'kv-b'], replicas));
    await assign('kv-a', roleFor('kv-a', 3, 'kv-c', ['kv-c', 'kv-b'], replicas));
    const leaderEnd = logOf('kv-c').length;
    const caughtUp = await waitFor(
      'kv-a to report it has the leader’s log',
      () =>
        control.reports.find(
          (r) =>
            r.nodeId === 'kv-a' &&
            r.replicas.some((row) => row.role === 'FOLLOWER' && row.logEndOffset >= leaderEnd),
        ),
      { timeoutMs: 10_000 },
    );
    expect(caughtUp).toBeDefined();
    // Record for record the leader's log: the orphan suffix is gone, every acknowledged write is there.
    expect(logOf('kv-a')).toEqual(logOf('kv-c'));
    expect(logOf('kv-a')).toHaveLength(leaderEnd);
    expect(valuesOn('kv-a').has('orphan')).toBe(false);
    const onA = valuesOn('kv-a');
    for (const [key, value] of acknowledged) expect([key, onA.get(key)]).toEqual([key, value]);
  });

  it('answers malformed, stale and forged fetches with codes, and steps down on a newer epoch', async () => {
    const fetch = Subjects.replica.fetch('kv-c');
    const raw = async (data: Uint8Array) =>
      json(await nc.request(subject(fetch), data, { timeout: 3_000 })) as Reply;
    const position = (over: Record<string, unknown> = {}) => ({
      resource: 'orders',
      partition: 0,
      followerId: 'kv-b',
      leaderEpoch: '3',
      fetchOffset: logOf('kv-b').length,
      lastFetchedEpoch: '3',
      maxRecords: 10,
      ...over,
    });
    expect(await raw(new TextEncoder().encode('{nope'))).toMatchObject({ code: 'INVALID_JSON' });
    expect(await ask(fetch, {})).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await ask(fetch, { ...position(), extra: 1 })).toMatchObject({ code: 'INVALID' });
    expect(await ask(fetch, { followerId: 'kv-b', partitions: [], maxRecords: 1 })).toMatchObject({
      code: 'INVALID',
    });
    // A replayed fetch from an older epoch, and one from a node that is no replica.
    expect(await ask(fetch, position({ leaderEpoch: '2' }))).toMatchObject({ code: 'STALE_EPOCH' });
    expect(await ask(fetch, position({ followerId: 'kv-z' }))).toMatchObject({ code: 'FORBIDDEN' });
    // A well-formed fetch at the log end: an empty long-poll answer with the high watermark.
    const idle = await ask(fetch, position());
    expect(idle).toMatchObject({ ok: true, leaderEpoch: '3', records: [] });
    // Batched: each partition answered on its own.
    const batch = (await ask(fetch, {
      followerId: 'kv-b',
      maxRecords: 10,
      maxWaitMs: 0,
      partitions: [
        { resource: 'orders', partition: 0, leaderEpoch: '2', fetchOffset: 0 },
        { resource: 'other', partition: 0, leaderEpoch: '3', fetchOffset: 0 },
      ],
    })) as unknown as { ok: boolean; partitions: { ok: boolean; code?: string }[] };
    expect(batch.ok).toBe(true);
    expect(batch.partitions.map((p) => p.code)).toEqual(['STALE_EPOCH', 'NOT_LEADER']);
    // A newer epoch than the leader's: it is the stale one, and stops serving at once ...
    control.unanswered.add('kv-c');
    const queries = control.roleQueries.get('kv-c') ?? 0;
    expect(await ask(fetch, position({ leaderEpoch: '9' }))).toMatchObject({ code: 'FENCED' });
    expect(await get('first1')).toMatchObject({ ok: false, code: 'NOT_LEADER' });
    expect(await put('fenced', 'x')).toMatchObject({ ok: false, code: 'NOT_LEADER' });
    await waitFor('kv-c to ask consensus', () => (control.roleQueries.get('kv-c') ?? 0) > queries);
    // ... until consensus (here: this test) confirms its role; it keeps asking until answered.
    control.unanswered.delete('kv-c');
    await waitServing('first1', 8_000);
    await putAll('fifth', 3);
  });

  it('holds a fetch for a partition whose leadership is on the way, and serves it once set up', async () => {
    const fetch = Subjects.replica.fetch('kv-c');
    const held = (partition: number, maxWaitMs: number) =>
      nc
        .request(
          subject(fetch),
          encode({
            followerId: 'kv-b',
            maxRecords: 10,
            maxWaitMs,
            partitions: [{ resource: 'orders', partition, leaderEpoch: '1', fetchOffset: 0 }],
          }),
          { timeout: 10_000 },
        )
        .then((m) => json(m) as { ok: boolean; partitions: { ok: boolean; code?: string }[] });
    const leads = (partition: number): RoleAssignmentV1 => ({
      ...roleFor('kv-c', 1, 'kv-c', ['kv-c', 'kv-b'], ['kv-c', 'kv-b']),
      partition,
      partitionCount: 4,
      resource: 'orders',
    });

    // Its LEADER role arrives while the fetch waits: the fetch is answered then, not refused.
    const sentAt = Date.now();
    const answer = held(1, 4_000);
    await new Promise((r) => setTimeout(r, 300));
    const role = leads(1);
    control.roles.get('kv-c')?.push(role);
    const assigned = await ask(Subjects.node.assignRoles('kv-c'), {
      nodeId: 'kv-c',
      assignments: [role],
    });
    expect(assigned).toMatchObject({ ok: true, accepted: 1 });
    const served = await answer;
    expect(served.partitions).toEqual([
      expect.objectContaining({ ok: true, leaderEpoch: '1', records: [] }),
    ]);
    expect(Date.now() - sentAt).toBeLessThan(3_000);

    // No role on the way: refused once the wait is over, not before.
    const refusedAt = Date.now();
    const refused = await held(2, 1_000);
    expect(refused.partitions.map((p) => p.code)).toEqual(['NOT_LEADER']);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
  });
});
