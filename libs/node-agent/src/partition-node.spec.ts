import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ReplicaReportV1,
  type RoleAssignmentV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { EPOCH_FILE } from './epoch-store';
import {
  type AgentLogger,
  type AgentNetwork,
  nextPage,
  PartitionNode,
  type PartitionNodeOptions,
} from './partition-node';

/** A deadline-bound poll (libs may not import @tessera/testing). */
async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const quiet = (): void => undefined;
const silent: AgentLogger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/** A control plane in memory: answers requests by subject, records publishes and subscriptions. */
class FakeNetwork implements AgentNetwork {
  readonly published: { subject: string; payload: unknown }[] = [];
  readonly subscribed: string[] = [];
  readonly unsubscribed: string[] = [];
  readonly heartbeats: unknown[] = [];
  registerFailures = 0;
  roleFailures = 0;
  roleQueries = 0;
  roles: RoleAssignmentV1[] = [];
  /** What health answers a heartbeat with (null: silence, the request times out). */
  heartbeatReply: unknown = { ok: true };

  request: AgentNetwork['request'] = async (_kind, subject, payload) => {
    if (subject === Subjects.coordinator.registerNode) {
      if (this.registerFailures-- > 0) throw new TesseraError('UNAVAILABLE', 'no coordinator');
      const nodeId = (payload as { nodeId: string }).nodeId;
      return { nodeId, heartbeatIntervalMs: 20, incarnation: 3 } as never;
    }
    if (subject.startsWith('consensus.node.roles.')) {
      this.roleQueries++;
      if (this.roleFailures-- > 0) throw new TesseraError('TIMEOUT', 'consensus is slow');
      // Pages as consensus serves them: ordered by (resource, partition), after the cursor.
      const { limit, afterResource, afterPartition } = payload as {
        limit?: number;
        afterResource?: string;
        afterPartition?: number;
      };
      if (limit === undefined) return { assignments: this.roles } as never;
      const sorted = [...this.roles].sort(
        (a, b) => a.resource.localeCompare(b.resource) || a.partition - b.partition,
      );
      const rest = sorted.filter(
        (a) =>
          afterResource === undefined ||
          a.resource > afterResource ||
          (a.resource === afterResource && a.partition > (afterPartition ?? -1)),
      );
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      const next =
        rest.length > limit && last
          ? { afterResource: last.resource, afterPartition: last.partition }
          : null;
      return { assignments: page, next } as never;
    }
    throw new TesseraError('UNAVAILABLE', `no responder on ${subject}`);
  };

  requestRaw: AgentNetwork['requestRaw'] = async (subject, payload) => {
    if (subject === Subjects.health.heartbeat('n1')) {
      this.heartbeats.push(payload);
      if (this.heartbeatReply === null) throw new TesseraError('TIMEOUT', 'no reply');
      return this.heartbeatReply;
    }
    throw new TesseraError('UNAVAILABLE', `no responder on ${subject}`);
  };

  publish(subject: string, payload: unknown): void {
    this.published.push({ subject, payload });
  }

  subscribe(subject: string): { unsubscribe(): void } {
    this.subscribed.push(subject);
    return { unsubscribe: () => this.unsubscribed.push(subject) };
  }
}

function leaderOf(partition: number, epoch: string): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition,
    partitionCount: 2,
    role: 'LEADER',
    leader: 'n1',
    leaderEpoch: epoch,
    isr: ['n1'],
    replicas: ['n1'],
  };
}

describe(PartitionNode.name, () => {
  let dir: string;
  let network: FakeNetwork;
  let sut: PartitionNode;
  let now: number;

  /** Node n1 on the fake network, with these settings. */
  function node(settings: Partial<PartitionNodeOptions> = {}): PartitionNode {
    return new PartitionNode({
      nodeId: 'n1',
      zone: 'z1',
      rack: 'r1',
      capacity: 1,
      tags: [],
      dataDir: dir,
      network,
      logger: silent,
      ...settings,
    });
  }

  function newNode(): PartitionNode {
    return node({
      registerRetryMs: 5,
      reportIntervalMs: 20,
      reconcileIntervalMs: 30,
      leaseMs: 600,
      clock: () => now,
    });
  }

  beforeEach(async () => {
    now = 10_000;
    dir = mkdtempSync(join(tmpdir(), 'tessera-agent-'));
    network = new FakeNetwork();
    sut = newNode();
    await sut.open();
  });

  afterEach(async () => {
    await sut.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes leadership, persisting the epoch before the app hears of it', async () => {
    let fileAtNotify: string | null = null;
    sut.onRoleChange(() => {
      fileAtNotify = readFileSync(join(dir, EPOCH_FILE), 'utf8');
    });
    const reply = await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2')] });
    expect(reply).toEqual({ ok: true, accepted: 1, rejected: [] });
    expect(JSON.parse(fileAtNotify!)).toEqual({ version: 1, epochs: { 'orders/0': '2' } });
    expect(sut.isLeader('orders', 0)).toBe(true);
    expect(sut.isLeader('orders', 0, '2')).toBe(true);
    expect(sut.isLeader('orders', 0, 1n)).toBe(false);
    expect(sut.currentRole('orders', 1)).toEqual({ role: 'NONE', epoch: null, assignment: null });
  });

  it('rejects a lower epoch, also after a restart, and accepts the same epoch again', async () => {
    await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2')] });
    await sut.stop();
    sut = newNode();
    await sut.open();
    const stale = await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '1')] });
    expect(stale).toEqual({
      ok: true,
      accepted: 0,
      rejected: [{ resource: 'orders', partition: 0, highestEpoch: '2' }],
    });
    expect(sut.isLeader('orders', 0)).toBe(false);
    const again = await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2')] });
    expect(again).toEqual({ ok: true, accepted: 1, rejected: [] });
    expect(sut.isLeader('orders', 0, '2')).toBe(true);
  });

  it('tells listeners about a demotion with the previous assignment', async () => {
    const seen: [string, string | undefined][] = [];
    sut.onRoleChange((a, previous) => {
      seen.push([a.role, previous?.role]);
    });
    await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2')] });
    await sut.handleAssign({
      nodeId: 'n1',
      assignments: [{ ...leaderOf(0, '3'), role: 'FOLLOWER', leader: 'n2', isr: ['n2', 'n1'] }],
    });
    expect(seen).toEqual([
      ['LEADER', undefined],
      ['FOLLOWER', 'LEADER'],
    ]);
    expect(sut.isLeader('orders', 0)).toBe(false);
  });

  it('runs the roles-applied hook once per command, after every role listener', async () => {
    const calls: string[] = [];
    sut.onRoleChange((a) => {
      calls.push(`role ${a.partition}`);
    });
    sut.onRolesApplied(() => {
      calls.push('applied');
    });
    await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2'), leaderOf(1, '2')] });
    expect(calls).toEqual(['role 0', 'role 1', 'applied']);
    // A command that changes nothing does not run it.
    await sut.handleAssign({ nodeId: 'n1', assignments: [leaderOf(0, '2')] });
    expect(calls).toHaveLength(3);
  });

  it('acts on many partitions at once, but on each partition in order and before the hook', async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    sut.onRoleChange(async (a) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      order.push(`${a.partition}@${a.leaderEpoch}`);
      inFlight--;
    });
    let hookSawAll = false;
    sut.onRolesApplied(() => {
      hookSawAll = order.length === 300 && inFlight === 0;
    });
    const reply = await sut.handleAssign({
      nodeId: 'n1',
      assignments: Array.from({ length: 300 }, (_, p) => ({
        ...leaderOf(p, '2'),
        partitionCount: 300,
      })),
    });

    expect(reply).toMatchObject({ accepted: 300 });
    expect(most).toBeGreaterThan(32);
    expect(most).toBeLessThanOrEqual(256);
    expect(hookSawAll).toBe(true);
    // A later command for the same partitions runs after every listener of the first.
    await sut.handleAssign({
      nodeId: 'n1',
      assignments: [{ ...leaderOf(7, '3'), partitionCount: 300 }],
    });
    expect(order.indexOf('7@3')).toBe(300);
  });

  it('acts on one partition named twice in a command in the order given, the later after the earlier', async () => {
    const order: string[] = [];
    sut.onRoleChange(async (a) => {
      // The first change of partition 5 is the slow one: the second must still wait for it.
      await new Promise((r) => setTimeout(r, a.leaderEpoch === '2' && a.partition === 5 ? 20 : 1));
      order.push(`${a.partition}@${a.leaderEpoch}`);
    });
    await sut.handleAssign({
      nodeId: 'n1',
      assignments: [
        { ...leaderOf(5, '2'), partitionCount: 10 },
        { ...leaderOf(6, '2'), partitionCount: 10 },
        { ...leaderOf(5, '3'), partitionCount: 10 },
      ],
    });

    expect(order.filter((o) => o.startsWith('5@'))).toEqual(['5@2', '5@3']);
  });

  it.each([
    ['a non-object', 'garbage', 'INVALID'],
    ['a missing field', { nodeId: 'n1' }, 'INVALID'],
    ['an unknown field', { nodeId: 'n1', assignments: [], extra: 1 }, 'INVALID'],
    [
      'a numeric epoch',
      { nodeId: 'n1', assignments: [{ ...leaderOf(0, '2'), leaderEpoch: 2 }] },
      'INVALID',
    ],
    ['a negative epoch', { nodeId: 'n1', assignments: [leaderOf(0, '-2')] }, 'INVALID'],
    [
      'an inconsistent role',
      { nodeId: 'n1', assignments: [{ ...leaderOf(0, '2'), leader: 'n9' }] },
      'INVALID',
    ],
    ['another node id', { nodeId: 'n2', assignments: [leaderOf(0, '2')] }, 'FORBIDDEN'],
  ])('refuses %s and changes nothing', async (_what, payload, code) => {
    const reply = await sut.handleAssign(payload);
    expect(reply).toMatchObject({ ok: false, code });
    expect(sut.roles()).toEqual([]);
    expect(existsSync(join(dir, EPOCH_FILE))).toBe(false);
  });

  it('refuses a whole command when one assignment is bad', async () => {
    const reply = await sut.handleAssign({
      nodeId: 'n1',
      assignments: [leaderOf(0, '2'), { ...leaderOf(1, '2'), isr: [] }],
    });
    expect(reply).toMatchObject({ ok: false, code: 'INVALID' });
    expect(sut.isLeader('orders', 0)).toBe(false);
  });

  it('registers (retrying), heartbeats, reports, reconciles and stops', async () => {
    network.registerFailures = 2;
    network.roles = [leaderOf(1, '4')];
    sut.providePositions((_r, p) => (p === 1 ? 12 : undefined));
    await sut.start();
    expect(sut.incarnation).toBe(3);
    expect(network.subscribed).toEqual([
      Subjects.node.assignRoles('n1'),
      Subjects.events.partitionLeader,
    ]);
    expect(sut.isLeader('orders', 1, '4')).toBe(true);

    const beats = await waitFor('three heartbeats', () => {
      const list = network.heartbeats;
      return list.length >= 3 && list;
    });
    expect(beats.slice(0, 3)).toEqual(
      [0, 1, 2].map((seq) => expect.objectContaining({ nodeId: 'n1', incarnation: 3, seq })),
    );

    // Reports start with registration; take the first one sent after the reconcile applied.
    const report = await waitFor('a replica report with the reconciled role', () =>
      network.published.find(
        (p) =>
          p.subject === Subjects.replication.report('n1') &&
          (p.payload as { replicas: unknown[] }).replicas.length > 0,
      ),
    );
    expect(report.payload).toEqual({
      nodeId: 'n1',
      replicas: [
        { resource: 'orders', partition: 1, role: 'LEADER', leaderEpoch: '4', logEndOffset: 12 },
      ],
    });

    // The control plane forgets the partition: the next reconcile drops the role.
    network.roles = [];
    await waitFor(
      'the role dropped by reconcile',
      () => sut.currentRole('orders', 1).role === 'NONE',
    );

    await sut.stop();
    expect(network.unsubscribed).toEqual(network.subscribed);
    const count = network.published.length + network.heartbeats.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(network.published.length + network.heartbeats.length).toBe(count);
  });

  it('reconciles in pages: roles on every page are kept, a role on none is dropped', async () => {
    await sut.stop();
    sut = node({
      reconcileIntervalMs: 30,
      rolesPageSize: 3,
      clock: () => now,
    });
    await sut.open();
    const followers = Array.from({ length: 8 }, (_, p) => ({
      ...leaderOf(p, '1'),
      partitionCount: 8,
      role: 'FOLLOWER' as const,
      leader: 'n2',
      isr: ['n2', 'n1'],
      replicas: ['n2', 'n1'],
    }));
    network.roles = followers;
    await sut.start();
    expect(network.roleQueries).toBeGreaterThanOrEqual(3); // a reconcile: 3 + 3 + 2 roles
    expect([0, 3, 7].map((p) => sut.currentRole('orders', p).role)).toEqual([
      'FOLLOWER',
      'FOLLOWER',
      'FOLLOWER',
    ]);

    network.roles = followers.filter((f) => f.partition !== 5);
    await waitFor(
      'the role on no page dropped',
      () => sut.currentRole('orders', 5).role === 'NONE',
    );
    expect(sut.currentRole('orders', 7).role).toBe('FOLLOWER');
  });

  it('reports durable positions, with the high watermark on leader rows only', async () => {
    network.roles = [
      leaderOf(0, '4'),
      {
        ...leaderOf(1, '4'),
        role: 'FOLLOWER',
        leader: 'n2',
        isr: ['n2', 'n1'],
        replicas: ['n2', 'n1'],
      },
    ];
    sut.providePositions((_r, p) => ({ logEndOffset: 10 + p, highWatermark: 9 }));
    await sut.start();
    const report = await waitFor('a report with both rows', () =>
      network.published.find(
        (p) =>
          p.subject === Subjects.replication.report('n1') &&
          (p.payload as { replicas: unknown[] }).replicas.length === 2,
      ),
    );
    expect(report.payload).toEqual({
      nodeId: 'n1',
      replicas: [
        {
          resource: 'orders',
          partition: 0,
          role: 'LEADER',
          leaderEpoch: '4',
          logEndOffset: 10,
          highWatermark: 9,
        },
        { resource: 'orders', partition: 1, role: 'FOLLOWER', leaderEpoch: '4', logEndOffset: 11 },
      ],
    });
  });

  it('sends a report out of turn when asked, coalescing requests', async () => {
    sut = node({
      reportIntervalMs: 60_000, // only out-of-turn reports in this test
      clock: () => now,
    });
    await sut.start();
    const reports = () =>
      network.published.filter((p) => p.subject === Subjects.replication.report('n1')).length;
    expect(reports()).toBe(0);
    sut.requestReport();
    sut.requestReport();
    sut.requestReport();
    await waitFor('the report', () => reports() === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(reports()).toBe(1);
  });

  it('reports only the partitions asked for out of turn, and everything when not told which', async () => {
    network.roles = [0, 1, 2].map((p) => ({ ...leaderOf(p, '4'), partitionCount: 3 }));
    sut = node({
      reportIntervalMs: 60_000, // only out-of-turn reports in this test
    });
    sut.providePositions(() => 0);
    await sut.start();
    await waitFor('the roles', () => sut.currentRole('orders', 2).role === 'LEADER');
    const reports = () =>
      network.published
        .filter((p) => p.subject === Subjects.replication.report('n1'))
        .map((p) => p.payload as ReplicaReportV1);
    const reported = () => reports().map((r) => r.replicas.map((p) => p.partition));
    sut.requestReport({ resource: 'orders', partition: 2 });
    sut.requestReport({ resource: 'orders', partition: 0 });
    await waitFor('the partial report', () => reported().length === 1);
    expect(reported()).toEqual([[0, 2]]);
    expect(reports()[0].partial).toBe(true);
    sut.requestReport({ resource: 'orders', partition: 1 });
    sut.requestReport();
    await waitFor('the full report', () => reported().length === 2);
    expect(reported()[1]).toEqual([0, 1, 2]);
    expect(reports()[1].partial).toBeUndefined();
  });

  it('retries a failed reconcile that a suspended partition waits for, before the periodic one', async () => {
    network.roles = [leaderOf(0, '2')];
    sut = node({
      reconcileIntervalMs: 60_000,
      clock: () => now,
    });
    await sut.start();
    await waitFor('the lease', () => sut.mayServe('orders', 0));
    const queries = network.roleQueries;
    network.roleFailures = 1;
    sut.suspend('orders', 0, '5');
    await waitFor('a failed query and a retry', () => network.roleQueries >= queries + 2, 3_000);
    await waitFor('the suspension lifted', () => sut.mayServe('orders', 0));
  });

  describe('leader lease', () => {
    beforeEach(async () => {
      network.roles = [leaderOf(0, '2')];
      await sut.start();
    });

    it('serves only once a heartbeat was acknowledged and the roles reconciled after it', async () => {
      expect(sut.isLeader('orders', 0, '2')).toBe(true);
      await waitFor('the lease', () => sut.mayServe('orders', 0, '2'));
      expect(sut.leaseHeld).toBe(true);
      expect(sut.mayServe('orders', 0, '1')).toBe(false);
      expect(sut.mayServe('orders', 1)).toBe(false);
    });

    it('stops serving when heartbeats go unanswered for the lease, and comes back after a reconcile', async () => {
      await waitFor('the lease', () => sut.mayServe('orders', 0));
      network.heartbeatReply = null;
      now += 599;
      expect(sut.mayServe('orders', 0)).toBe(true);
      now += 1;
      expect(sut.mayServe('orders', 0)).toBe(false);
      expect(sut.isLeader('orders', 0)).toBe(true); // the role stands; serving does not
      const queries = network.roleQueries;
      network.heartbeatReply = { ok: true };
      await waitFor('a reconcile after the acknowledgement', () => network.roleQueries > queries);
      await waitFor('the lease back', () => sut.mayServe('orders', 0));
    });

    it('learns it was replaced while it was away before serving again (zombie)', async () => {
      await waitFor('the lease', () => sut.mayServe('orders', 0));
      network.heartbeatReply = null;
      now += 10_000; // a SIGSTOP: the clock ran on, nothing was answered
      expect(sut.mayServe('orders', 0)).toBe(false);
      // Meanwhile consensus elected n2 at a higher epoch.
      network.roles = [{ ...leaderOf(0, '3'), role: 'FOLLOWER', leader: 'n2', isr: ['n2', 'n1'] }];
      network.heartbeatReply = { ok: true };
      await waitFor('the new role', () => sut.currentRole('orders', 0).role === 'FOLLOWER');
      expect(sut.currentRole('orders', 0).epoch).toBe('3');
      expect(sut.mayServe('orders', 0)).toBe(false);
    });

    it('refuses a heartbeat refusal as an acknowledgement', async () => {
      await waitFor('the lease', () => sut.mayServe('orders', 0));
      network.heartbeatReply = { ok: false, code: 'STALE_EPOCH', message: 'old incarnation' };
      now += 600;
      const beats = network.heartbeats.length;
      await waitFor('more heartbeats', () => network.heartbeats.length > beats + 2);
      expect(sut.mayServe('orders', 0)).toBe(false);
    });

    it('suspends a partition when a newer epoch is seen until a later reconcile', async () => {
      await waitFor('the lease', () => sut.mayServe('orders', 0));
      const queries = network.roleQueries;
      sut.suspend('orders', 0, '7');
      expect(sut.mayServe('orders', 0)).toBe(false);
      expect(sut.leaseHeld).toBe(true);
      await waitFor('the reconcile', () => network.roleQueries > queries);
      await waitFor('the suspension lifted (consensus says it still leads)', () =>
        sut.mayServe('orders', 0),
      );
    });
  });
});

describe(nextPage.name, () => {
  it('moves forward or ends, and refuses a cursor that does not', () => {
    expect(nextPage(null, null)).toBeNull();
    expect(nextPage(undefined, { afterResource: 'a', afterPartition: 3 })).toBeNull();
    expect(
      nextPage(
        { afterResource: 'a', afterPartition: 4 },
        { afterResource: 'a', afterPartition: 3 },
      ),
    ).toEqual({
      afterResource: 'a',
      afterPartition: 4,
    });
    expect(
      nextPage(
        { afterResource: 'b', afterPartition: 0 },
        { afterResource: 'a', afterPartition: 9 },
      ),
    ).toEqual({
      afterResource: 'b',
      afterPartition: 0,
    });
    for (const bad of [
      { afterResource: 'a', afterPartition: 3 },
      { afterResource: 'a', afterPartition: 2 },
      { afterResource: 'a.b', afterPartition: 9 },
      { afterResource: 'b', afterPartition: 1.5 },
      'next',
    ])
      expect(() => nextPage(bad, { afterResource: 'a', afterPartition: 3 })).toThrow(TesseraError);
  });
});
