import { waitFor } from '@tessera/testing';
import { type EventLog } from '../cluster';
import { checkConvergence } from './checkers';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { WrittenFleet } from './written-fleet';
import {
  type CapturedCommand,
  ControlPlaneRecorder,
  epochsOf,
  type ReportedReplica,
} from './recorder';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 16;

/**
 * RELIABILITY S2 (kill -9 a node leading ≥ 4 partitions, restart it) and S17 (replay captured
 * old-epoch role commands), on one fleet, under a client writing to every partition throughout.
 */
describe('faults: a leader node killed (S2), old-epoch commands replayed (S17)', () => {
  let events: EventLog;
  let recorder: ControlPlaneRecorder;
  let writer: KvWriter;
  const history = new History('s2-s17-leader-node-kill');

  let fleet: WrittenFleet;
  const map = () => fleet.map();
  const orders = () => fleet.resource();
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s2', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ events, recorder, writer } = fleet);
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it('S2: every partition the killed node led gets a new leader at epoch + 1; restarted, it rejoins as a follower', async () => {
    const { node: victim, leads } = await fleet.topLeader();
    expect(leads).toBeGreaterThanOrEqual(4);
    const { killedAt, moved, after } = await fleet.failover(victim, 10_000);
    for (const p of moved) {
      const now = after.partitions[p.partition];
      expect({ partition: p.partition, epoch: now.epoch }).toEqual({
        partition: p.partition,
        epoch: p.epoch + 1,
      });
      expect(p.isr).toContain(now.leader);
      expect(now.isr).not.toContain(victim);
    }
    // Announced: one leader event per moved partition at the new epoch, naming the new leader.
    await waitFor('the new leaders announced', () =>
      moved.every((p) =>
        events
          .leaderEvents(RESOURCE, killedAt)
          .some(
            (e) =>
              e.body['partition'] === p.partition &&
              e.body['epoch'] === p.epoch + 1 &&
              e.body['leader'] === after.partitions[p.partition].leader,
          ),
      ),
    );
    // The new leaders serve: writes to the moved partitions are acknowledged again.
    const failedOverAt = Date.now();
    await waitFor(
      'writes acknowledged by the new leaders',
      () => moved.every((p) => writer.acked(p.partition, failedOverAt) > 0),
      {
        timeoutMs: 10_000,
      },
    ).catch(withLogs);

    // The scenario restarts the node after 20 s; what matters is that it comes back after its
    // partitions failed over, which has happened by now, so it restarts at once.
    const restartedAt = await fleet.restart(victim);
    const isFollowerNow = (report: ReportedReplica[] | undefined) =>
      report !== undefined &&
      moved.every((p) =>
        report.some(
          (r) =>
            r.resource === RESOURCE &&
            r.partition === p.partition &&
            r.role === 'FOLLOWER' &&
            r.leaderEpoch === String(p.epoch + 1),
        ),
      );
    await waitFor(
      'the victim to report itself a follower at the new epochs',
      () => isFollowerNow(recorder.report(victim, restartedAt)),
      {
        timeoutMs: 20_000,
      },
    ).catch(withLogs);
    // C6: converged — every partition led and its full replication factor in sync, ≤ 30 s after the restart.
    const converged = await fleet.waitConverged(30_000, { since: restartedAt });
    expect(checkConvergence(history.entries, converged.spec)).toEqual([]);
    const final = await orders();
    for (const p of moved) expect(final.partitions[p.partition].leader).not.toBe(victim);
  });

  it('S17: replayed old-epoch role commands are all rejected or no-ops, and every node keeps its newer role', async () => {
    const current = epochsOf(await map());
    const isOld = (a: { resource: string; partition: number; leaderEpoch: string }) =>
      BigInt(a.leaderEpoch) < BigInt(current.get(`${a.resource}/${a.partition}`) ?? 0);
    const stale: CapturedCommand[] = recorder.commands.filter((c) => c.assignments.some(isOld));
    expect(stale.length).toBeGreaterThan(0);
    const nodes = [...new Set(stale.map((c) => c.nodeId))];

    const rolesOf = (report: ReportedReplica[]) =>
      Object.fromEntries(
        report
          .filter((r) => r.resource === RESOURCE)
          .map((r) => [r.partition, `${r.role}@${r.leaderEpoch}`]),
      );
    // A node's periodic report is whole; one sent out of turn names only some partitions.
    const own = await orders();
    const held = (nodeId: string) =>
      own.partitions.filter((p) => p.replicas.includes(nodeId) || p.leader === nodeId).length;
    const wholeReports = (since: number) => {
      const roles = nodes.map((n) => {
        const r = recorder.report(n, since);
        return r ? rolesOf(r) : undefined;
      });
      return roles.every((r, i) => r !== undefined && Object.keys(r).length === held(nodes[i]))
        ? roles
        : undefined;
    };
    const snapshotAt = Date.now();
    const before = await waitFor('a whole replica report from every node', () =>
      wholeReports(snapshotAt),
    );

    const replayedAt = history.fault('replay', nodes.join(','));
    const results = await recorder.replay(stale);
    let oldAssignments = 0;
    for (const { command, reply } of results) {
      expect(reply.ok).toBe(true);
      const rejected = new Set((reply.rejected ?? []).map((r) => `${r.resource}/${r.partition}`));
      for (const a of command.assignments.filter(isOld)) {
        oldAssignments++;
        expect({
          node: command.nodeId,
          partition: a.partition,
          epoch: a.leaderEpoch,
          rejected: rejected.has(`${a.resource}/${a.partition}`),
        }).toEqual({
          node: command.nodeId,
          partition: a.partition,
          epoch: a.leaderEpoch,
          rejected: true,
        });
      }
    }
    expect(oldAssignments).toBeGreaterThan(0);

    // Nothing moved: the map, and each node's own account of its roles, are as before.
    expect(epochsOf(await map())).toEqual(current);
    const after = await waitFor('fresh whole replica reports after the replay', () =>
      wholeReports(replayedAt + 1),
    );
    expect(after).toEqual(before);
    // And the leaders still acknowledge writes, at the current epochs only (checked by C5 below).
    const since = Date.now();
    await waitFor(
      'writes acknowledged after the replay',
      () => writer.acked(undefined, since) >= PARTITIONS,
    );
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    // The history is not vacuous: writes were acknowledged, leaders granted, commands answered.
    expect(history.of('ok').length).toBeGreaterThan(100);
    expect(history.of('grant').length).toBeGreaterThanOrEqual(PARTITIONS);
    expect(history.of('command').some((c) => c.replayed && c.outcome === 'rejected')).toBe(true);
  });
});
