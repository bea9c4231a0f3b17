import fc from 'fast-check';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { type AppProcess, createTestEnv, startApp, stopAll, type TestEnv, waitFor } from '@tessera/testing';

const jc = JSONCodec<Record<string, unknown>>();

interface StateV1 {
  resource: string;
  partition: number;
  leader: string | null;
  leaderEpoch: string;
  isr: string[];
  replicas: string[];
  partitionEpoch: string;
}

describe('ConsensusManager (consensus service as a process, real Postgres and NATS)', () => {
  let t: TestEnv;
  let sut: AppProcess;
  let nc: NatsConnection;
  const commands: { nodeId: string; assignments: { resource: string; partition: number; role: string; leaderEpoch: string; leader: string | null; isr: string[]; replicas: string[] }[] }[] = [];

  const request = async (subject: string, body: unknown): Promise<Record<string, unknown>> => {
    const reply = await nc.request(`tessera.v1.${t.cluster}.${subject}`, new TextEncoder().encode(JSON.stringify(body)), {
      timeout: 5_000,
    });
    return jc.decode(reply.data);
  };
  const query = async (resource: string): Promise<StateV1[]> =>
    (await request('consensus.partition.query', { resource })).partitions as StateV1[];

  beforeAll(async () => {
    t = await createTestEnv('consensus');
    nc = await connect({ servers: t.natsUrl });
    // Play three data nodes: acknowledge every role command and record it.
    for (const nodeId of ['a', 'b', 'c', 'd']) {
      nc.subscribe(`tessera.v1.${t.cluster}.node.${nodeId}.role.assign`, {
        callback: (_err, msg) => {
          const body = jc.decode(msg.data) as unknown as (typeof commands)[number];
          commands.push(body);
          msg.respond(jc.encode({ ok: true, accepted: body.assignments.length, rejected: [] }));
        },
      });
    }
    sut = startApp('consensus', t.env({ TESSERA_HTTP_PORT: '0' }));
    await waitFor('consensus to answer', async () => (await request('consensus.partition.query', {})).ok === true, {
      timeoutMs: 30_000,
    });
  });

  afterAll(async () => {
    await stopAll([sut]);
    await nc?.close();
    await t?.destroy();
  });

  it('grants first leaders with epoch 1 and ISR = replicas, and tells every replica its role', async () => {
    const reply = await request('consensus.partition.initialize', {
      resource: 'orders',
      replicas: [['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b']],
    });
    expect(reply).toEqual({ ok: true, resource: 'orders', created: 3 });
    const states = await query('orders');
    expect(states.map((s) => [s.leader, s.leaderEpoch, s.isr])).toEqual([
      ['a', '1', ['a', 'b', 'c']],
      ['b', '1', ['b', 'c', 'a']],
      ['c', '1', ['c', 'a', 'b']],
    ]);
    await waitFor('role commands to reach a, b and c', () =>
      ['a', 'b', 'c'].every((n) => commands.some((c) => c.nodeId === n && c.assignments.some((x) => x.resource === 'orders'))),
    );
    const toA = commands.find((c) => c.nodeId === 'a')!.assignments.find((x) => x.partition === 0)!;
    expect(toA.role).toBe('LEADER');
    expect(toA.leaderEpoch).toBe('1');
  });

  it('is idempotent for the same resource and refuses a different partition count', async () => {
    expect(await request('consensus.partition.initialize', { resource: 'orders', replicas: [['a'], ['b'], ['c']] })).toEqual({
      ok: true,
      resource: 'orders',
      created: 0,
    });
    expect(await request('consensus.partition.initialize', { resource: 'orders', replicas: [['a']] })).toMatchObject({
      ok: false,
      code: 'CONFLICT',
    });
  });

  it('elects from the ISR with epoch + 1 when the leader dies, announcing new leaders before ISR shrinks', async () => {
    const announced: { reason: string; changes: { partition: number; leader: string | null }[] }[] = [];
    const sub = nc.subscribe(`tessera.v1.${t.cluster}.events.internal.partitions.changed`, {
      callback: (_err, msg) => announced.push(jc.decode(msg.data) as unknown as (typeof announced)[number]),
    });
    await nc.flush();
    const reply = await request('consensus.partition.elect', { unavailable: ['a'], reason: 'NODE_DEAD' });
    expect(reply).toMatchObject({ ok: true, elected: 1, offline: 0, changed: 3 });
    await waitFor('both election events', () => announced.length >= 2);
    sub.unsubscribe();
    // The partition a led first, in an event of its own; the ISR shrinks after it.
    expect(announced.map((e) => e.changes.map((c) => [c.partition, c.leader]))).toEqual([[[0, 'b']], [[1, 'b'], [2, 'c']]]);
    const states = await query('orders');
    expect(states[0]).toMatchObject({ leader: 'b', leaderEpoch: '2', isr: ['b', 'c'] });
    // Followers that died only leave the ISR; leaders that live keep their epoch.
    expect(states[1]).toMatchObject({ leader: 'b', leaderEpoch: '1', isr: ['b', 'c'] });
    expect(states[2]).toMatchObject({ leader: 'c', leaderEpoch: '1', isr: ['c', 'b'] });
  });

  it('takes a partition offline rather than electing outside the ISR, and back when a member returns', async () => {
    await request('consensus.partition.elect', { unavailable: ['a', 'b', 'c'], reason: 'NODE_DEAD' });
    const offline = await query('orders');
    expect(offline.every((s) => s.leader === null)).toBe(true);
    expect(offline[0].leaderEpoch).toBe('3');
    const back = await request('consensus.partition.elect', { unavailable: ['a', 'b'], reason: 'NODE_RETURNED' });
    expect(back).toMatchObject({ ok: true, elected: 3 });
    const states = await query('orders');
    expect(states.map((s) => s.leader)).toEqual(['c', 'c', 'c']);
    expect(states[0].leaderEpoch).toBe('4');
  });

  it('never reuses an epoch when a deleted resource is created again', async () => {
    const before = await query('orders');
    const highest = Math.max(...before.map((s) => Number(s.leaderEpoch)));
    const sent = commands.length;
    expect(await request('consensus.partition.delete', { resource: 'orders' })).toMatchObject({ ok: true, deleted: 3 });
    // Every replica of a deleted partition is told NONE, with no replicas and no ISR left.
    const told = () => commands.slice(sent).flatMap((c) => c.assignments.filter((x) => x.resource === 'orders').map((x) => ({ nodeId: c.nodeId, ...x })));
    const expected = before.flatMap((s) => s.replicas.map((nodeId) => ({ nodeId, partition: s.partition })));
    await waitFor('NONE to every replica of orders', () => told().length >= expected.length);
    expect(told().map(({ nodeId, partition, role, leader, isr, replicas }) => ({ nodeId, partition, role, leader, isr, replicas }))).toEqual(
      expect.arrayContaining(expected.map((e) => ({ ...e, role: 'NONE', leader: null, isr: [], replicas: [] }))),
    );
    expect(await query('orders')).toEqual([]);
    const beforeAgain = commands.length;
    await request('consensus.partition.initialize', { resource: 'orders', replicas: [['d', 'a']] });
    const [again] = await query('orders');
    expect(Number(again.leaderEpoch)).toBe(highest + 1);
    // Its roles say where its epochs start: a node still holding the old orders' log (it missed
    // the NONE) can tell that log is not this partition's.
    const roles = () => commands.slice(beforeAgain).flatMap((c) => c.assignments.filter((x) => x.resource === 'orders'));
    await waitFor('roles of the new orders to d and a', () => roles().length >= 2);
    expect(roles().map((x) => (x as { createdEpoch?: string }).createdEpoch)).toEqual([String(highest + 1), String(highest + 1)]);
    const ofA = (await request('consensus.node.roles.a', { nodeId: 'a' })).assignments as { resource: string; createdEpoch?: string }[];
    expect(ofA.find((x) => x.resource === 'orders')).toMatchObject({ createdEpoch: String(highest + 1) });
  });

  it('moves replicas make-before-break: union, catch-up into the ISR, leadership, then the target', async () => {
    await request('consensus.partition.initialize', { resource: 'moves', replicas: [['a', 'b']] });
    const [start] = await query('moves');
    // 1. add c: it joins as a replica outside the ISR
    expect(await request('consensus.partition.reassign', { resource: 'moves', reassignments: [{ partition: 0, replicas: ['c', 'a', 'b'] }] })).toMatchObject({ ok: true, changed: 1 });
    let [s0] = await query('moves');
    expect(s0).toMatchObject({ replicas: ['c', 'a', 'b'], leader: 'a', isr: ['a', 'b'], leaderEpoch: start.leaderEpoch });
    // 2. a stale ISR proposal is refused; a current one lets c in (preferred order kept)
    expect(await request('consensus.partition.isr', { resource: 'moves', partition: 0, isr: ['a', 'b', 'c'], partitionEpoch: start.partitionEpoch })).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(await request('consensus.partition.isr', { resource: 'moves', partition: 0, isr: ['a', 'b', 'c'], partitionEpoch: s0.partitionEpoch })).toMatchObject({ ok: true, state: { isr: ['c', 'a', 'b'] } });
    expect(await request('consensus.partition.isr', { resource: 'moves', partition: 0, isr: ['b', 'c'], partitionEpoch: String(Number(s0.partitionEpoch) + 1) })).toMatchObject({ ok: false, code: 'INVALID' });
    // 3. the old leader cannot be removed before leadership moves; then it can
    expect(await request('consensus.partition.reassign', { resource: 'moves', reassignments: [{ partition: 0, replicas: ['c', 'b'] }] })).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(await request('consensus.partition.leader.moves', { moves: [{ resource: 'moves', partition: 0, leader: 'c' }] })).toMatchObject({ ok: true, results: [{ ok: true, state: { leader: 'c', leaderEpoch: String(Number(start.leaderEpoch) + 1) } }] });
    const toA = commands.length;
    expect(await request('consensus.partition.reassign', { resource: 'moves', reassignments: [{ partition: 0, replicas: ['c', 'b'] }] })).toMatchObject({ ok: true, changed: 1 });
    [s0] = await query('moves');
    expect(s0).toMatchObject({ replicas: ['c', 'b'], leader: 'c', isr: ['c', 'b'] });
    // 4. the removed replica is told its role is NONE
    await waitFor('a NONE command to a', () =>
      commands.slice(toA).some((c) => c.nodeId === 'a' && c.assignments.some((x) => x.resource === 'moves' && x.role === 'NONE')),
    );
    // …listing it in neither the replicas nor the ISR (a node deletes the data then)
    const none = commands.slice(toA).flatMap((c) => (c.nodeId === 'a' ? c.assignments : [])).find((x) => x.resource === 'moves' && x.role === 'NONE')!;
    expect([none.replicas.includes('a'), none.isr.includes('a')]).toEqual([false, false]);
    // leadership only goes to an in-sync replica
    expect(await request('consensus.partition.leader.moves', { moves: [{ resource: 'moves', partition: 0, leader: 'a' }] })).toMatchObject({ ok: true, results: [{ ok: false, code: 'CONFLICT' }] });
  });

  it('commits concurrent ISR proposals together, each checked and answered on its own', async () => {
    await request('consensus.partition.initialize', { resource: 'isrs', replicas: Array.from({ length: 12 }, () => ['a', 'b', 'c']) });
    // Shrink every ISR to the leader alone (c and b "fell behind"), then grow them back at once.
    for (let p = 0; p < 12; p++) await request('consensus.partition.isr', { resource: 'isrs', partition: p, isr: ['a'], partitionEpoch: '1' });
    const shrunk = await query('isrs');
    expect(shrunk.every((s) => s.isr.join() === 'a' && s.partitionEpoch === '2')).toBe(true);

    const replies = await Promise.all([
      ...shrunk.map((s) => request('consensus.partition.isr', { resource: 'isrs', partition: s.partition, isr: ['a', 'b', 'c'], partitionEpoch: '2' })),
      request('consensus.partition.isr', { resource: 'isrs', partition: 0, isr: ['a', 'b'], partitionEpoch: '1' }), // stale
      request('consensus.partition.isr', { resource: 'isrs', partition: 1, isr: ['b', 'c'], partitionEpoch: '2' }), // leader left out
      request('consensus.partition.isr', { resource: 'isrs', partition: 12, isr: ['a'], partitionEpoch: '1' }), // no such partition
    ]);

    expect(replies.slice(0, 12).map((r) => r.ok && (r.state as StateV1).isr.join())).toEqual(Array(12).fill('a,b,c'));
    expect(replies.slice(12).map((r) => r.code)).toEqual(['CONFLICT', expect.stringMatching(/^(INVALID|CONFLICT)$/), 'NOT_FOUND']);
    const after = await query('isrs');
    expect(after.map((s) => [s.isr.join(), s.partitionEpoch])).toEqual(Array(12).fill(['a,b,c', '3']));
  });

  it('commits a handoff sent as one request in one transaction and answers each move in order', async () => {
    await request('consensus.partition.initialize', { resource: 'drainall', replicas: Array.from({ length: 12 }, () => ['a', 'b', 'c']) });
    await request('consensus.partition.isr', { resource: 'drainall', partition: 11, isr: ['a', 'b'], partitionEpoch: '1' });
    const announced: { reason: string; changes: { resource: string; partition: number }[] }[] = [];
    const sub = nc.subscribe(`tessera.v1.${t.cluster}.events.internal.partitions.changed`, {
      callback: (_err, msg) => announced.push(jc.decode(msg.data) as unknown as (typeof announced)[number]),
    });
    await nc.flush();

    const reply = await request('consensus.partition.leader.moves', {
      moves: [
        ...Array.from({ length: 11 }, (_, p) => ({ resource: 'drainall', partition: p, leader: 'b' })),
        { resource: 'drainall', partition: 11, leader: 'c' }, // c left the ISR
        { resource: 'drainall', partition: 12, leader: 'b' }, // no such partition
        { resource: 'drainall', partition: 0, leader: 'b' }, // the same again: checked against the result
      ],
    });

    const results = reply.results as { ok: boolean; code?: string; state?: StateV1 }[];
    expect(reply.ok).toBe(true);
    expect(results.map((r) => (r.ok ? [r.state?.leader, r.state?.leaderEpoch] : r.code))).toEqual([
      ...Array(11).fill(['b', '2']),
      'CONFLICT',
      'NOT_FOUND',
      ['b', '2'],
    ]);
    await waitFor('the handoff announced', () => announced.some((e) => e.changes.some((c) => c.resource === 'drainall')));
    // A sentinel change behind it: every announcement of the handoff has arrived before it.
    await request('consensus.partition.isr', { resource: 'drainall', partition: 11, isr: ['a'], partitionEpoch: '2' });
    await waitFor('the sentinel announced', () => announced.some((e) => e.changes.some((c) => c.resource === 'drainall' && c.partition === 11)));
    sub.unsubscribe();
    const handoff = announced.filter((e) => e.reason === 'LEADER_MOVE' && e.changes.some((c) => c.resource === 'drainall'));
    expect(handoff.map((e) => e.changes.map((c) => c.partition).sort((x, y) => x - y))).toEqual([Array.from({ length: 11 }, (_, p) => p)]);
    // Each node is told its new roles: b leads all eleven at epoch 2, in one command.
    await waitFor('b told it leads the eleven', () =>
      commands.some((c) => c.nodeId === 'b' && c.assignments.filter((x) => x.resource === 'drainall' && x.role === 'LEADER' && x.leaderEpoch === '2').length === 11),
    );
    expect(await request('consensus.partition.leader.moves', { moves: [] })).toMatchObject({ ok: false, code: 'INVALID' });
  });

  it('answers a node only with its own roles', async () => {
    expect(await request('consensus.node.roles.d', { nodeId: 'd' })).toMatchObject({
      ok: true,
      assignments: [{ resource: 'orders', partition: 0, role: 'LEADER' }],
    });
    expect(await request('consensus.node.roles.d', { nodeId: 'a' })).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('answers a node’s roles in pages that hold each of its roles once, in order', async () => {
    await request('consensus.partition.initialize', { resource: 'paged', replicas: Array.from({ length: 7 }, () => ['c', 'a', 'b']) });
    const whole = (await request('consensus.node.roles.c', { nodeId: 'c' })).assignments as { resource: string; partition: number }[];
    const pages: { resource: string; partition: number }[][] = [];
    let after: Record<string, unknown> = {};
    for (;;) {
      const reply = await request('consensus.node.roles.c', { nodeId: 'c', limit: 3, ...after });
      expect(reply.ok).toBe(true);
      pages.push(reply.assignments as { resource: string; partition: number }[]);
      if (reply.next === null) break;
      after = reply.next as Record<string, unknown>;
    }

    expect(whole.filter((r) => r.resource === 'paged')).toHaveLength(7);
    expect(pages.every((p) => p.length <= 3)).toBe(true);
    expect(pages.flat()).toEqual(whole);
    expect(await request('consensus.node.roles.c', { nodeId: 'c', limit: 0 })).toMatchObject({ ok: false, code: 'INVALID' });
  });

  it('refuses malformed commands with a code, changes nothing and keeps serving', async () => {
    const before = await query('orders');
    const subjects = [
      'consensus.partition.initialize',
      'consensus.partition.elect',
      'consensus.partition.delete',
      'consensus.partition.query',
    ];
    const refusals = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...subjects), fc.anything(), async (subject, junk) => {
        // An unknown property makes any query invalid (undefined would vanish in JSON).
        fc.pre(!(subject === 'consensus.partition.query' && junk === undefined));
        const reply = await request(subject, subject === 'consensus.partition.query' ? { junk } : junk);
        expect(reply.ok).toBe(false);
        refusals.add(String(reply.code));
      }),
      { numRuns: 300 },
    );
    const raw = await nc.request(`tessera.v1.${t.cluster}.consensus.partition.elect`, new TextEncoder().encode('{not json'), {
      timeout: 5_000,
    });
    expect(jc.decode(raw.data)).toMatchObject({ ok: false, code: 'INVALID_JSON' });
    expect([...refusals].every((c) => c === 'INVALID' || c === 'INVALID_JSON')).toBe(true);
    expect(await query('orders')).toEqual(before);
    expect(sut.child.exitCode).toBeNull();
  });

  // Last: it makes d unavailable, which moves every leadership d holds.
  it('lists an offline partition’s last ISR member among its roles after its replica moved away', async () => {
    await request('consensus.partition.initialize', { resource: 'stranded', replicas: [['d']] });
    await request('consensus.partition.elect', { unavailable: ['d'], reason: 'NODE_DEAD' });
    // Re-placed while offline: the ISR keeps d, the only copy of the data, so it can come back.
    expect(await request('consensus.partition.reassign', { resource: 'stranded', reassignments: [{ partition: 0, replicas: ['a'] }] })).toMatchObject({ ok: true, changed: 1 });
    const [state] = await query('stranded');
    expect(state).toMatchObject({ leader: null, replicas: ['a'], isr: ['d'] });
    // A node sweeps the logs of partitions its roles do not list: d's must be listed (as NONE).
    const ofD = (await request('consensus.node.roles.d', { nodeId: 'd' })).assignments as { resource: string; role: string; isr: string[] }[];
    expect(ofD.find((x) => x.resource === 'stranded')).toMatchObject({ role: 'NONE', isr: ['d'] });
  });
});
