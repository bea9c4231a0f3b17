import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Msg, type NatsConnection, connect } from 'nats';
import { KvClient, PartitionMapClient, natsMapEvents, natsRequester } from '@tessera/client';
import { type MapViewV1, type RoleAssignmentV1, Subjects, fullSubject } from '@tessera/contracts';
import { type AppProcess, type TestEnv, createTestEnv, startApp, waitFor } from '@tessera/testing';

const NODE = 'kv-a';

function leader(epoch: string): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition: 0,
    partitionCount: 1,
    role: 'LEADER',
    leader: NODE,
    leaderEpoch: epoch,
    isr: [NODE],
    replicas: [NODE],
  };
}

/**
 * The built kv-node as a real process; this test plays the control plane with plain nats.js:
 * it answers registration and role queries, receives heartbeats and reports, sends role commands.
 */
describe('kv-node', () => {
  let t: TestEnv;
  let nc: NatsConnection;
  let dataDir: string;
  const processes: AppProcess[] = [];
  const control = {
    registrations: [] as unknown[],
    roleQueries: 0,
    roles: [] as RoleAssignmentV1[],
    heartbeats: [] as { incarnation: number; seq: number }[],
    reports: [] as unknown[],
  };

  const subject = (relative: string) => fullSubject(t.cluster, relative);
  const json = (m: Msg): unknown => JSON.parse(new TextDecoder().decode(m.data));

  async function ask(relative: string, payload: unknown): Promise<unknown> {
    const data =
      payload instanceof Uint8Array ? payload : new TextEncoder().encode(JSON.stringify(payload));
    return json(await nc.request(subject(relative), data, { timeout: 2_000 }));
  }

  /** Resolves to the NATS error code when nobody serves the subject. */
  async function askCode(relative: string, payload: unknown): Promise<string | undefined> {
    return ask(relative, payload).then(
      () => undefined,
      (error: unknown) => (error as { code?: string }).code,
    );
  }

  /** A freshly (re)started node serves once its lease is confirmed (heartbeat ack + reconcile). */
  async function serving(key: string): Promise<void> {
    await waitFor(
      'the node to serve as leader',
      async () =>
        ((await ask(Subjects.kv.get('orders', 0), { key })) as { ok: boolean }).ok === true,
      { timeoutMs: 5_000 },
    );
  }

  function start(): AppProcess {
    const p = startApp('kv-node', t.env({ TESSERA_NODE_ID: NODE, KV_DATA_DIR: dataDir }));
    processes.push(p);
    return p;
  }

  beforeAll(async () => {
    t = await createTestEnv('kvnode', { migrate: false });
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-kv-node-'));
    nc = await connect({ servers: t.natsUrl });
    nc.subscribe(subject(Subjects.coordinator.registerNode), {
      callback: (_err, m) => {
        control.registrations.push(json(m));
        m.respond(
          new TextEncoder().encode(
            JSON.stringify({
              ok: true,
              nodeId: NODE,
              heartbeatIntervalMs: 200,
              incarnation: control.registrations.length,
            }),
          ),
        );
      },
    });
    nc.subscribe(subject(Subjects.consensus.nodeRoles(NODE)), {
      callback: (_err, m) => {
        control.roleQueries++;
        m.respond(
          new TextEncoder().encode(JSON.stringify({ ok: true, assignments: control.roles })),
        );
      },
    });
    // Health acknowledges heartbeats: the acknowledgements are the node's leader lease.
    nc.subscribe(subject(Subjects.health.heartbeat(NODE)), {
      callback: (_err, m) => {
        control.heartbeats.push(json(m) as { incarnation: number; seq: number });
        m.respond(new TextEncoder().encode(JSON.stringify({ ok: true })));
      },
    });
    nc.subscribe(subject(Subjects.replication.report(NODE)), {
      callback: (_err, m) => control.reports.push(json(m)),
    });
    await nc.flush();
  });

  afterAll(async () => {
    for (const p of processes) p.signal('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await nc?.close();
    await t?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers, heartbeats, and serves put/get once made leader', async () => {
    start();
    await waitFor('registration', () => control.registrations.length === 1);
    expect(control.registrations[0]).toEqual({
      nodeId: NODE,
      zone: 'default',
      rack: 'default',
      capacity: 1,
      tags: [],
    });
    await waitFor('a role query', () => control.roleQueries >= 1);
    const beats = await waitFor(
      'three heartbeats',
      () => control.heartbeats.length >= 3 && control.heartbeats,
    );
    expect(beats.slice(0, 3)).toEqual(
      [0, 1, 2].map((seq) => expect.objectContaining({ nodeId: NODE, incarnation: 1, seq })),
    );

    // Not a leader yet: nobody serves the partition.
    expect(await askCode(Subjects.kv.get('orders', 0), { key: 'k1' })).toBe('503');

    control.roles = [leader('2')];
    expect(
      await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [leader('2')] }),
    ).toEqual({ ok: true, accepted: 1, rejected: [] });
    await serving('k1');
    expect(await ask(Subjects.kv.put('orders', 0), { key: 'k1', value: 'v1' })).toEqual({
      ok: true,
      epoch: '2',
      offset: 0,
    });
    expect(await ask(Subjects.kv.get('orders', 0), { key: 'k1' })).toEqual({
      ok: true,
      value: 'v1',
      epoch: '2',
    });
    expect(await ask(Subjects.kv.get('orders', 0), { key: 'nope' })).toEqual({
      ok: true,
      value: null,
      epoch: '2',
    });

    await waitFor('a replica report with the write', () =>
      control.reports.some(
        (r) =>
          JSON.stringify(r) ===
          JSON.stringify({
            nodeId: NODE,
            replicas: [
              {
                resource: 'orders',
                partition: 0,
                role: 'LEADER',
                leaderEpoch: '2',
                logEndOffset: 1,
                highWatermark: 1,
              },
            ],
          }),
      ),
    );
  });

  it('rejects an assignment with an older epoch and keeps leading', async () => {
    const reply = await ask(Subjects.node.assignRoles(NODE), {
      nodeId: NODE,
      assignments: [{ ...leader('1'), role: 'FOLLOWER', leader: 'kv-b' }],
    });
    expect(reply).toEqual({
      ok: true,
      accepted: 0,
      rejected: [{ resource: 'orders', partition: 0, highestEpoch: '2' }],
    });
    expect(await ask(Subjects.kv.put('orders', 0), { key: 'k2', value: 'v2' })).toEqual({
      ok: true,
      epoch: '2',
      offset: 1,
    });
  });

  it('is reachable through the client library, which follows map events', async () => {
    let map: MapViewV1 = {
      version: 1,
      resources: [
        {
          name: 'orders',
          partitionCount: 1,
          partitions: [
            { partition: 0, replicas: ['kv-b'], leader: 'kv-b', epoch: 1, isr: ['kv-b'] },
          ],
        },
      ],
    };
    let fetches = 0;
    const router = new PartitionMapClient({
      source: { fetchMap: async () => (fetches++, map) },
      events: natsMapEvents({ connection: nc, cluster: t.cluster }),
      refreshIntervalMs: 0,
    });
    await router.start();
    try {
      await nc.flush();
      // The map moves leadership to kv-a: the event makes the client refetch.
      map = {
        version: 2,
        resources: [
          {
            name: 'orders',
            partitionCount: 1,
            partitions: [{ partition: 0, replicas: [NODE], leader: NODE, epoch: 2, isr: [NODE] }],
          },
        ],
      };
      nc.publish(
        subject(Subjects.events.map),
        new TextEncoder().encode(
          JSON.stringify({ eventId: 'e1', at: new Date().toISOString(), version: 2 }),
        ),
      );
      await waitFor('the client to refetch the map', () => router.version === 2);
      expect(fetches).toBe(2);
      const sut = new KvClient({
        router,
        requester: natsRequester({ connection: nc, cluster: t.cluster }),
        attempts: 2,
      });
      await expect(sut.put('orders', 'via-client', 'yes')).resolves.toEqual({
        partition: 0,
        epoch: '2',
        offset: 2,
      });
      await expect(sut.get('orders', 'via-client')).resolves.toEqual({
        partition: 0,
        value: 'yes',
        epoch: '2',
      });
    } finally {
      router.close();
    }
  });

  it('answers garbage with error codes and keeps serving', async () => {
    const put = Subjects.kv.put('orders', 0);
    const assign = Subjects.node.assignRoles(NODE);
    expect(await ask(put, new TextEncoder().encode('{not json'))).toMatchObject({
      ok: false,
      code: 'INVALID_JSON',
    });
    expect(await ask(put, { key: 5, value: 'x' })).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await ask(put, { key: 'a', value: 'b', extra: true })).toMatchObject({
      ok: false,
      code: 'INVALID',
    });
    expect(await ask(put, [1, 2, 3])).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await ask(put, null)).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await ask(assign, new TextEncoder().encode('\u0000\u0001'))).toMatchObject({
      ok: false,
      code: 'INVALID_JSON',
    });
    expect(await ask(assign, { nodeId: NODE, assignments: 'all of them' })).toMatchObject({
      ok: false,
      code: 'INVALID',
    });
    expect(
      await ask(assign, { nodeId: NODE, assignments: [{ ...leader('9'), leaderEpoch: 9 }] }),
    ).toMatchObject({ ok: false, code: 'INVALID' });
    expect(await ask(assign, { nodeId: 'kv-b', assignments: [leader('9')] })).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    // None of it moved the fence or the data.
    expect(await ask(put, { key: 'k3', value: 'v3' })).toEqual({ ok: true, epoch: '2', offset: 3 });
  });

  it('keeps its data and its fence across a restart, and stops serving when demoted', async () => {
    const first = processes[0];
    const exit = await first.stop();
    expect(exit.code === 0 || exit.signal === 'SIGTERM' || exit.code === 143).toBe(true);
    expect(existsSync(join(dataDir, 'LOCK'))).toBe(false); // released by a clean shutdown
    // Consensus still lists it as leader at epoch 2 (an empty answer would have its log swept).
    control.roles = [leader('2')];

    start();
    await waitFor('the second registration', () => control.registrations.length === 2);
    const stale = await ask(Subjects.node.assignRoles(NODE), {
      nodeId: NODE,
      assignments: [leader('1')],
    });
    expect(stale).toEqual({
      ok: true,
      accepted: 0,
      rejected: [{ resource: 'orders', partition: 0, highestEpoch: '2' }],
    });

    expect(
      await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [leader('2')] }),
    ).toEqual({ ok: true, accepted: 1, rejected: [] });
    await serving('k1');
    expect(await ask(Subjects.kv.get('orders', 0), { key: 'k1' })).toEqual({
      ok: true,
      value: 'v1',
      epoch: '2',
    });
    expect(await ask(Subjects.kv.put('orders', 0), { key: 'k4', value: 'v4' })).toEqual({
      ok: true,
      epoch: '2',
      offset: 4,
    });

    const follower = {
      ...leader('3'),
      role: 'FOLLOWER' as const,
      leader: 'kv-b',
      isr: ['kv-b', NODE],
      replicas: ['kv-b', NODE],
    };
    control.roles = [follower];
    expect(
      await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [follower] }),
    ).toEqual({ ok: true, accepted: 1, rejected: [] });
    await waitFor(
      'the former leader to stop serving',
      async () =>
        (await askCode(Subjects.kv.put('orders', 0), { key: 'k5', value: 'v5' })) === '503',
    );
  });

  it('deletes its log once it holds no replica of the partition, and starts from empty if given one again', async () => {
    const log = join(dataDir, 'data', 'orders', '0.log');
    expect(existsSync(log)).toBe(true);
    // Taken off the partition (a reassignment moved the replica to kv-c).
    const dropped = {
      ...leader('4'),
      role: 'NONE' as const,
      leader: 'kv-b',
      isr: ['kv-b', 'kv-c'],
      replicas: ['kv-b', 'kv-c'],
    };
    control.roles = [];
    expect(
      await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [dropped] }),
    ).toEqual({ ok: true, accepted: 1, rejected: [] });
    await waitFor('the log deleted', () => !existsSync(log));
    expect(existsSync(join(dataDir, 'data', 'orders'))).toBe(false);

    // Given the partition back (a later plan), it leads from an empty log: nothing old returns.
    control.roles = [leader('5')];
    expect(
      await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [leader('5')] }),
    ).toEqual({ ok: true, accepted: 1, rejected: [] });
    await serving('k1');
    expect(await ask(Subjects.kv.get('orders', 0), { key: 'k1' })).toEqual({
      ok: true,
      value: null,
      epoch: '5',
    });
    expect(await ask(Subjects.kv.put('orders', 0), { key: 'k6', value: 'v6' })).toEqual({
      ok: true,
      epoch: '5',
      offset: 0,
    });
  });

  it('discards a log left by a deleted resource of the same name when it missed the NONE', async () => {
    // Down while orders was deleted and created again (epochs of a name only grow: the new
    // orders starts at 7), it comes back holding the old orders' log, and leads the new one.
    const exit = await processes[processes.length - 1].stop();
    expect(exit.code === 0 || exit.signal === 'SIGTERM' || exit.code === 143).toBe(true);
    const reborn = { ...leader('7'), createdEpoch: '7' };
    control.roles = [reborn];
    // And a log of a partition taken off it meanwhile (its NONE never came): swept at start.
    const gone = join(dataDir, 'data', 'gone', '3.log');
    mkdirSync(join(dataDir, 'data', 'gone'));
    writeFileSync(gone, '{"offset":0,"epoch":"1","key":"a","value":"b"}\n');
    const registrations = control.registrations.length;
    start();
    await waitFor('the next registration', () => control.registrations.length > registrations);
    await ask(Subjects.node.assignRoles(NODE), { nodeId: NODE, assignments: [reborn] });
    await serving('k6');
    expect(await ask(Subjects.kv.get('orders', 0), { key: 'k6' })).toEqual({
      ok: true,
      value: null,
      epoch: '7',
    });
    expect(await ask(Subjects.kv.put('orders', 0), { key: 'k7', value: 'v7' })).toEqual({
      ok: true,
      epoch: '7',
      offset: 0,
    });
    await waitFor('the log of the partition taken off it deleted', () => !existsSync(gone));
  });
});
