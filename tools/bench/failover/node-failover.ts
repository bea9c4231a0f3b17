import { type OperationV1 } from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import { type ObservedEvent } from '../../../apps/e2e/src/cluster';
import {
  atOf,
  type Fleet,
  type NodeKind,
  histogram,
  log,
  RESOURCE,
  resourceMap,
  waitForFullReplication,
  waitForStable,
} from './fleet';

/** One SIGKILL of the kv-node leading the most partitions; times are ms after the kill. */
export interface NodeFailoverRound {
  nodes: NodeKind;
  partitions: number;
  round: number;
  victim: string;
  /** Partitions the victim led (each needs a new leader). */
  moved: number;
  /** Partitions whose ISR was at the full RF when the node was killed. */
  fullIsrAtKill: number;
  /** Health declares the node DEAD (its `events.internal.node.liveness` event, stamped by health). */
  detectionMs: number | null;
  /** The public `events.node.state` DEAD received (coordinator republishes health's decision). */
  deadEventMs: number | null;
  /** Recovery's FAILOVER operation started (its start time, as recovery recorded it). */
  operationStartedMs: number | null;
  /** Consensus's own time to commit the election batch (`tessera_election_batch_seconds`). */
  electionCommitMs: number | null;
  /** The election committed: consensus's first `events.internal.partitions.changed` (ELECTION), stamped in its transaction. */
  electedMs: number | null;
  /** The coordinator's projection committed the new map (first leader event's stamp). */
  projectedMs: number;
  /** First `events.partition.leader` for a moved partition received. */
  firstLeaderMs: number;
  /** Publish: from the election's commit to the last new-leader event received. */
  publishMs: number | null;
  /** End to end: kill → the last new-leader event received for the victim's partitions. */
  endToEndMs: number;
  /** Moved partitions left without a leader (no in-sync replica alive). */
  offline: number;
  /** After the restart: the node ALIVE again, and every partition back at the full ISR. */
  aliveAfterRestartMs: number;
  rfRestoredAfterRestartMs: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function nodeFailoverRound(fleet: Fleet, round: number): Promise<NodeFailoverRound> {
  const { cluster, events, partitions } = fleet;
  const fullIsrAtKill = await waitForStable(fleet, 300_000);
  const before = await resourceMap(cluster);
  const ledBy = new Map<string, number>();
  for (const p of before.partitions)
    if (p.leader) ledBy.set(p.leader, (ledBy.get(p.leader) ?? 0) + 1);
  const [victim] = [...ledBy].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  const moved = new Map(
    before.partitions.filter((p) => p.leader === victim).map((p) => [p.partition, p.epoch]),
  );
  const consensusPort = cluster.ports.get('consensus');
  if (consensusPort === undefined) throw new Error('no consensus port');
  const metricBefore = await histogram(consensusPort, 'tessera_election_batch_seconds');
  // Let the scrape settle: nothing else is in flight now.
  await sleep(200);

  // The new leader of each moved partition: the first leader event after the kill above its old
  // epoch, taken as each event arrives (rescanning the whole log every few ms kept this process
  // busy, and late to stamp what it received, during the very seconds it measures).
  const newLeaderAt = new Map<number, ObservedEvent>();
  const stopWatching = events.onEvent((e) => {
    if (e.relative !== 'events.partition.leader' || e.body['resource'] !== RESOURCE) return;
    const p = Number(e.body['partition']);
    const old = moved.get(p);
    if (old !== undefined && !newLeaderAt.has(p) && Number(e.body['epoch']) > old)
      newLeaderAt.set(p, e);
  });
  const killedAt = Date.now();
  try {
    await cluster.kill(victim);
    await waitFor(
      `new leaders for the ${moved.size} partitions ${victim} led`,
      () => newLeaderAt.size === moved.size,
      { timeoutMs: 120_000, intervalMs: 20 },
    );
  } finally {
    stopWatching();
  }
  const leaders = [...newLeaderAt.values()];
  const firstLeader = Math.min(...leaders.map((e) => e.at));
  const lastLeader = Math.max(...leaders.map((e) => e.at));
  const projected = Math.min(...leaders.map(atOf));

  // Each stage is read from the events that announce it; one that never shows up is left blank.
  const optional = <T>(what: string, find: () => T | undefined) =>
    waitFor(what, find, { timeoutMs: 10_000 }).catch(() => null);
  const liveness = await optional('health’s DEAD decision', () =>
    events
      .of('events.internal.node.liveness', killedAt)
      .find((e) => e.body['nodeId'] === victim && e.body['state'] === 'DEAD'),
  );
  const deadEvent = await optional('the public DEAD event', () =>
    events.nodeStates(victim, killedAt).find((e) => e.body['state'] === 'DEAD'),
  );
  const elected = await optional('consensus’s election event', () =>
    events
      .of('events.internal.partitions.changed', killedAt)
      .find(
        (e) =>
          e.body['reason'] === 'ELECTION' &&
          Array.isArray(e.body['changes']) &&
          (e.body['changes'] as { resource?: unknown }[]).some((c) => c.resource === RESOURCE),
      ),
  );
  const metricAfter = await histogram(consensusPort, 'tessera_election_batch_seconds');
  const batches = metricAfter.count - metricBefore.count;
  const electionCommitMs =
    batches > 0 ? ((metricAfter.sum - metricBefore.sum) / batches) * 1_000 : null;
  const operationStartedMs = await failoverStart(fleet, victim, killedAt);

  const result: NodeFailoverRound = {
    nodes: fleet.nodes,
    partitions,
    round,
    victim,
    moved: moved.size,
    fullIsrAtKill,
    detectionMs: liveness ? atOf(liveness) - killedAt : null,
    deadEventMs: deadEvent ? deadEvent.at - killedAt : null,
    operationStartedMs,
    electionCommitMs,
    electedMs: elected ? atOf(elected) - killedAt : null,
    projectedMs: projected - killedAt,
    firstLeaderMs: firstLeader - killedAt,
    publishMs: elected ? lastLeader - atOf(elected) : null,
    endToEndMs: lastLeader - killedAt,
    offline: leaders.filter((e) => e.body['leader'] === null).length,
    aliveAfterRestartMs: 0,
    rfRestoredAfterRestartMs: null,
  };

  // Restart it and let the cluster heal before the next round.
  const restartedAt = Date.now();
  cluster.restartNode(victim);
  await waitFor(
    `${victim} ALIVE again`,
    // Health's own announcement (the coordinator's republication can lag behind, see the notes).
    () =>
      events
        .of('events.internal.node.liveness', restartedAt)
        .some((e) => e.body['nodeId'] === victim && e.body['state'] === 'ALIVE'),
    {
      timeoutMs: 60_000,
      intervalMs: 50,
    },
  );
  result.aliveAfterRestartMs = Date.now() - restartedAt;
  try {
    await waitForFullReplication(cluster, partitions, 120_000);
    result.rfRestoredAfterRestartMs = Date.now() - restartedAt;
  } catch {
    log(`round ${round}: the ISR did not return to RF 3 within 120 s of the restart`);
  }
  return result;
}

/** When recovery started its FAILOVER operation for the victim (ms after the kill). */
async function failoverStart(
  fleet: Fleet,
  victim: string,
  killedAt: number,
): Promise<number | null> {
  const recoveries = fleet.cluster
    .instancesOf('recovery')
    .filter((i) => fleet.cluster.isRunning(i.id));
  for (const r of recoveries) {
    try {
      const res = await fetch(`http://127.0.0.1:${r.port}/api/v1/operations?limit=20`, {
        headers: { authorization: `Bearer ${fleet.cluster.adminToken}` },
      });
      const { operations } = (await res.json()) as { operations: OperationV1[] };
      const op = operations.find(
        (o) => o.subject === victim && Date.parse(o.startedAt) >= killedAt - 1_000,
      );
      if (op) return Date.parse(op.startedAt) - killedAt;
    } catch {
      // try the other instance
    }
  }
  return null;
}
