import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { type Counter, type Histogram } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import {
  QUERY_PAGE_MAX,
  type QueryPartitionsReplyV1,
  type QueryPartitionsRequestV1,
  type NodeRolesReplyV1,
  type AlterIsrRequestV1,
  type LeaderMoveResultV1,
  type MoveLeaderRequestV1,
  type ReassignPartitionsRequestV1,
  type ElectLeadersReplyV1,
  type ElectLeadersRequestV1,
  type PartitionStateV1,
  type PartitionsChangedEventV1,
  type RoleAssignmentV1,
  Subjects,
  TesseraError,
  isTesseraError,
} from '@tessera/contracts';
import { OutboxRelay } from '@tessera/messaging';
import { appendBatchToOutbox, appendToOutbox, type OutboxBatch, type OutboxEvent } from '@tessera/persistence';
import { MetricsService, OUTBOX_RELAY } from '@tessera/service-kit';
import { electLeader, type LeaderAndIsr } from './election';
import { GroupCommit, type Queued } from './group-commit';
import { planIsrChange } from './isr-change';
import { planLeaderMove } from './leader-move';
import { RoleDispatcher } from './role-dispatcher.service';

interface StateRow {
  resource: string;
  partition: number;
  partition_count: number;
  replicas: string[];
  leader: string | null;
  leader_epoch: string;
  isr: string[];
  partition_epoch: string;
  /** The leader epoch the partition was created at ('0': before it was kept). */
  created_epoch: string;
}

const EVENT_CHUNK = 1000; // keeps each event well under NATS's 1 MB payload limit
/** Most ISR proposals or leader moves committed in one transaction (group commit). */
const GROUP_COMMIT_MAX = 1000;

/** A request that changes one partition: AlterPartition or a leader move. */
interface PartitionRequest {
  resource: string;
  partition: number;
}

const partitionKey = (r: PartitionRequest): string => `${r.resource}/${r.partition}`;

function toWire(row: StateRow): PartitionStateV1 {
  return {
    resource: row.resource,
    partition: row.partition,
    replicas: row.replicas,
    leader: row.leader,
    leaderEpoch: String(row.leader_epoch),
    isr: row.isr,
    partitionEpoch: String(row.partition_epoch),
  };
}

export function roleOf(row: StateRow, nodeId: string): RoleAssignmentV1 {
  return {
    resource: row.resource,
    partition: row.partition,
    partitionCount: row.partition_count,
    role: row.leader === nodeId ? 'LEADER' : row.replicas.includes(nodeId) ? 'FOLLOWER' : 'NONE',
    leader: row.leader,
    leaderEpoch: String(row.leader_epoch),
    isr: row.isr,
    replicas: row.replicas,
    partitionEpoch: String(row.partition_epoch),
    // Nodes discard a log older than this: a deleted resource of the same name left it.
    ...(BigInt(row.created_epoch) > 0n ? { createdEpoch: String(row.created_epoch) } : {}),
  };
}

/**
 * ConsensusManager: the single writer of leader-and-ISR state. Every change is one transaction
 * of batched statements, compare-and-set on partition_epoch, with its event in the outbox.
 * Leader epochs only grow, and survive resource deletion through epoch floors.
 */
@Injectable()
export class ConsensusManager {
  private readonly elections: Counter;
  private readonly electionSeconds: Histogram;
  private readonly isrChanges: GroupCommit<AlterIsrRequestV1, PartitionStateV1>;
  private readonly leaderMoves: GroupCommit<MoveLeaderRequestV1, PartitionStateV1>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly dispatcher: RoleDispatcher,
    private readonly log: PinoLogger,
    metrics: MetricsService,
  ) {
    this.log.setContext(ConsensusManager.name);
    this.elections = metrics.counter('tessera_elections_total', 'Leader elections committed', ['outcome']);
    this.electionSeconds = metrics.histogram(
      'tessera_election_batch_seconds',
      'Time to commit one batch of elections',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    );
    this.isrChanges = new GroupCommit<AlterIsrRequestV1, PartitionStateV1>({
      keyOf: partitionKey,
      maxBatch: GROUP_COMMIT_MAX,
      commit: (batch) =>
        this.commitPartitionChanges(batch, 'ISR_CHANGE', planIsrChange, (rows) =>
          this.log.info({ changed: rows.length, proposals: batch.length }, 'ISR changed'),
        ),
    });
    this.leaderMoves = new GroupCommit<MoveLeaderRequestV1, PartitionStateV1>({
      keyOf: partitionKey,
      maxBatch: GROUP_COMMIT_MAX,
      commit: (batch) =>
        this.commitPartitionChanges(batch, 'LEADER_MOVE', planLeaderMove, (rows) => {
          this.elections.inc({ outcome: 'moved' }, rows.length);
          this.log.info(
            { changed: rows.length, requests: batch.length, moved: rows.slice(0, 20).map((r) => `${partitionKey(r)}→${r.leader}@${r.leader_epoch}`) },
            'leadership moved',
          );
        }),
    });
  }

  /** First leaders of a new resource: preferred replica leads, ISR = replicas. Idempotent. */
  async initialize(resource: string, replicas: string[][]): Promise<{ created: number }> {
    for (const [p, list] of replicas.entries()) {
      if (new Set(list).size !== list.length) {
        throw new TesseraError('INVALID', `partition ${p}: replicas must be distinct nodes`);
      }
    }
    let announced: OutboxBatch | null = null;
    const rows = await this.db.transaction(async (m) => {
      // Serialises initialize/delete of one resource name (the floor row is the lock).
      await m.query(
        `INSERT INTO consensus.epoch_floor (resource, leader_epoch, partition_epoch) VALUES ($1, 0, 0)
         ON CONFLICT (resource) DO NOTHING`,
        [resource],
      );
      const [floor]: { leader_epoch: string; partition_epoch: string }[] = await m.query(
        `SELECT leader_epoch, partition_epoch FROM consensus.epoch_floor WHERE resource = $1 FOR UPDATE`,
        [resource],
      );
      const existing: { n: number; count: number | null }[] = await m.query(
        `SELECT count(*)::int AS n, max(partition_count) AS count FROM consensus.partition_state WHERE resource = $1`,
        [resource],
      );
      if (existing[0].n > 0) {
        if (existing[0].count === replicas.length) return [];
        throw new TesseraError('CONFLICT', `resource ${resource} already has ${existing[0].count} partitions`);
      }
      const inserted: StateRow[] = await m.query(
        `INSERT INTO consensus.partition_state
           (resource, partition, partition_count, replicas, leader, leader_epoch, isr, partition_epoch,
            created_epoch)
         SELECT $1, (t.i - 1)::int, $2, r.list, r.list[1], $3::bigint + 1, r.list, $4::bigint + 1,
                $3::bigint + 1
           FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS t(value, i)
           CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(t.value)) AS list) r
         RETURNING *`,
        [resource, replicas.length, floor.leader_epoch, floor.partition_epoch, JSON.stringify(replicas)],
      );
      announced = await this.announce(m, 'INITIALIZE', inserted);
      return inserted;
    });
    this.afterCommit(rows, [], announced);
    this.log.info({ resource, partitions: rows.length }, 'partitions initialized');
    return { created: rows.length };
  }

  /**
   * Fails over from unavailable nodes in two transactions. First every partition they led (or that
   * has no leader) gets its new leader from its ISR, all in one transaction announced on its own:
   * clients, the map and the nodes wait on these. Then the partitions they only followed drop them
   * from the ISR; at RF 3 those are twice as many rows, and they would double the first commit.
   */
  async elect(request: ElectLeadersRequestV1): Promise<ElectLeadersReplyV1> {
    const leaders = await this.electionPass(request, 'LEADERS');
    const isr = request.unavailable.length > 0 ? await this.electionPass(request, 'ISR') : null;
    return {
      elected: leaders.elected + (isr?.elected ?? 0),
      offline: leaders.offline + (isr?.offline ?? 0),
      changed: leaders.changed + (isr?.changed ?? 0),
    };
  }

  /**
   * One election transaction over the rows a pass selects: `LEADERS`, partitions led by an
   * unavailable node or by nobody; `ISR`, partitions with an unavailable node in the ISR.
   */
  private async electionPass(
    request: ElectLeadersRequestV1,
    pass: 'LEADERS' | 'ISR',
  ): Promise<ElectLeadersReplyV1> {
    const started = process.hrtime.bigint();
    const unavailable = new Set(request.unavailable);
    let announced: OutboxBatch | null = null;
    const result = await this.db.transaction(async (m) => {
      const rows: StateRow[] = await m.query(
        pass === 'LEADERS'
          ? `SELECT * FROM consensus.partition_state WHERE leader IS NULL OR leader = ANY($1::text[])
              ORDER BY resource, partition FOR UPDATE`
          : `SELECT * FROM consensus.partition_state WHERE isr && $1::text[]
              ORDER BY resource, partition FOR UPDATE`,
        [request.unavailable],
      );
      if (rows.length === 0) return { updated: [], elected: 0, offline: 0 };
      const counts: { leader: string; n: number }[] = await m.query(
        `SELECT leader, count(*)::int AS n FROM consensus.partition_state WHERE leader IS NOT NULL GROUP BY leader`,
      );
      const load = new Map(counts.map((c) => [c.leader, c.n]));
      const changes: LeaderAndIsr[] = [];
      let elected = 0;
      let offline = 0;
      for (const row of rows) {
        const { outcome, next } = electLeader(this.toLeaderAndIsr(row), unavailable, load);
        if (outcome === 'ELECTED') elected++;
        if (next.leader === null) offline++;
        if (outcome !== 'UNCHANGED') changes.push(next);
      }
      const updated = await this.applyChanges(m, changes);
      announced = await this.announce(m, 'ELECTION', updated);
      return { updated, elected, offline };
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (pass === 'LEADERS') {
      this.electionSeconds.observe(seconds);
      this.elections.inc({ outcome: 'elected' }, result.elected);
    }
    this.afterCommit(result.updated, [], announced);
    this.log.info(
      {
        reason: request.reason,
        pass,
        unavailable: request.unavailable,
        elected: result.elected,
        offline: result.offline,
        changed: result.updated.length,
        ms: Math.round(seconds * 1000),
      },
      'elections committed',
    );
    return { elected: result.elected, offline: result.offline, changed: result.updated.length };
  }

  /** Compare-and-set of many rows in one statement; a row whose epoch moved is skipped. */
  private async applyChanges(m: EntityManager, changes: LeaderAndIsr[]): Promise<StateRow[]> {
    if (changes.length === 0) return [];
    const [updated]: [StateRow[], number] = await m.query(
      `UPDATE consensus.partition_state AS s
          SET leader = u.leader, leader_epoch = u.leader_epoch, isr = u.isr::text[],
              replicas = u.replicas::text[], partition_epoch = u.partition_epoch, updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[])
              AS u(resource, partition, leader, leader_epoch, isr, partition_epoch, replicas)
        WHERE s.resource = u.resource AND s.partition = u.partition
          AND s.partition_epoch = u.partition_epoch - 1
      RETURNING s.*`,
      [
        changes.map((c) => c.resource),
        changes.map((c) => c.partition),
        changes.map((c) => c.leader),
        changes.map((c) => c.leaderEpoch.toString()),
        // Node ids are subject tokens (no commas, braces or quotes): a safe array literal.
        changes.map((c) => `{${c.isr.join(',')}}`),
        changes.map((c) => c.partitionEpoch.toString()),
        changes.map((c) => `{${c.replicas.join(',')}}`),
      ],
    );
    if (updated.length !== changes.length) {
      this.log.warn({ expected: changes.length, updated: updated.length }, 'compare-and-set skipped rows that moved');
    }
    return updated;
  }

  /** Drops a resource's partition state, keeping its highest epochs as the floor for a re-creation. */
  async delete(resource: string): Promise<{ deleted: number }> {
    const removed = await this.db.transaction(async (m) => {
      const [rows]: [StateRow[], number] = await m.query(
        `DELETE FROM consensus.partition_state WHERE resource = $1 RETURNING *`,
        [resource],
      );
      if (rows.length === 0) return rows;
      const maxLeader = rows.reduce((a, r) => (BigInt(r.leader_epoch) > a ? BigInt(r.leader_epoch) : a), 0n);
      const maxPartition = rows.reduce((a, r) => (BigInt(r.partition_epoch) > a ? BigInt(r.partition_epoch) : a), 0n);
      await m.query(
        `INSERT INTO consensus.epoch_floor (resource, leader_epoch, partition_epoch) VALUES ($1, $2, $3)
         ON CONFLICT (resource) DO UPDATE SET
           leader_epoch = GREATEST(consensus.epoch_floor.leader_epoch, EXCLUDED.leader_epoch),
           partition_epoch = GREATEST(consensus.epoch_floor.partition_epoch, EXCLUDED.partition_epoch)`,
        [resource, maxLeader.toString(), maxPartition.toString()],
      );
      const event: Omit<PartitionsChangedEventV1, 'eventId' | 'at'> = {
        reason: 'DELETE',
        changes: [],
        deletedResource: resource,
      };
      await appendToOutbox(m, 'consensus', [{ subject: Subjects.events.partitionsChanged, payload: { ...event } }]);
      return rows;
    });
    // Former replicas hold no role any more; the epoch is the floor, so they accept it.
    this.afterCommit([], removed.map((r) => ({ ...r, leader: null, isr: [], leader_epoch: r.leader_epoch })), null);
    this.log.info({ resource, partitions: removed.length }, 'partitions deleted');
    return { deleted: removed.length };
  }

  /**
   * AlterPartition: a new ISR for one partition, compare-and-set on the partition epoch the
   * proposer saw (see planIsrChange). Group commit: proposals that arrive while a batch commits
   * are committed together in the next one (a returning node brings thousands).
   */
  alterIsr(req: AlterIsrRequestV1): Promise<PartitionStateV1> {
    return this.isrChanges.submit(req);
  }

  /**
   * Hands leaderships to in-sync replicas (preferred-leader election, drains): epoch + 1 each.
   * Submitted in one turn, the moves commit as one batch (group commit, as for ISR changes): a
   * drain's handoff is one transaction and one map version, so routing clients and nodes get
   * one update for it. Each move is answered on its own, in order. A failure that is not a
   * move's own refusal (Postgres down) fails the request: moves are idempotent, the caller sends
   * them again.
   */
  async moveLeaders(moves: MoveLeaderRequestV1[]): Promise<LeaderMoveResultV1[]> {
    const settled = await Promise.allSettled(moves.map((m) => this.leaderMoves.submit(m)));
    return settled.map((s): LeaderMoveResultV1 => {
      if (s.status === 'fulfilled') return { ok: true, state: s.value };
      if (!isTesseraError(s.reason)) throw s.reason;
      return { ok: false, code: s.reason.code, message: s.reason.message };
    });
  }

  /**
   * Commits a batch of single-partition requests in one transaction: rows locked in order, each
   * request planned against its row (`plan` returns the next row, null for no change, or throws
   * its refusal), the changes applied compare-and-set, one event for them all. Each request gets
   * its own answer: its new state, its unchanged state, or its error.
   */
  private async commitPartitionChanges<Req extends PartitionRequest>(
    batch: Queued<Req, PartitionStateV1>[],
    reason: PartitionsChangedEventV1['reason'],
    plan: (current: LeaderAndIsr, req: Req) => LeaderAndIsr | null,
    committed: (rows: StateRow[]) => void,
  ): Promise<void> {
    const answers = new Map<Queued<Req, PartitionStateV1>, StateRow | TesseraError>();
    let announced: OutboxBatch | null = null;
    const updated = await this.db.transaction(async (m) => {
      answers.clear(); // a retried transaction decides again
      const rows: StateRow[] = await m.query(
        `SELECT * FROM consensus.partition_state
          WHERE (resource, partition) IN (SELECT * FROM unnest($1::text[], $2::int[]))
          ORDER BY resource, partition FOR UPDATE`,
        [batch.map((q) => q.req.resource), batch.map((q) => q.req.partition)],
      );
      const byKey = new Map(rows.map((r) => [partitionKey(r), r]));
      const changes: LeaderAndIsr[] = [];
      const changedBy = new Map<string, Queued<Req, PartitionStateV1>>();
      for (const q of batch) {
        const current = byKey.get(partitionKey(q.req));
        if (!current) {
          answers.set(q, new TesseraError('NOT_FOUND', `${partitionKey(q.req)} does not exist`));
          continue;
        }
        try {
          const next = plan(this.toLeaderAndIsr(current), q.req);
          if (next === null) answers.set(q, current);
          else {
            changes.push(next);
            changedBy.set(partitionKey(next), q);
          }
        } catch (error) {
          answers.set(q, error instanceof TesseraError ? error : new TesseraError('INTERNAL', String(error)));
        }
      }
      const done = await this.applyChanges(m, changes);
      for (const r of done) {
        const q = changedBy.get(partitionKey(r));
        if (q) answers.set(q, r);
      }
      announced = await this.announce(m, reason, done);
      return done;
    });
    if (updated.length > 0) {
      this.afterCommit(updated, [], announced);
      committed(updated);
    }
    for (const q of batch) {
      const answer = answers.get(q);
      if (answer instanceof TesseraError) q.reject(answer);
      else if (answer) q.resolve(toWire(answer));
      else q.reject(new TesseraError('CONFLICT', 'the partition moved while the change was committed'));
    }
  }

  /**
   * Changes replica lists in one transaction (make before break is the caller's order: first
   * the union, later the target). The ISR keeps only members that stay; added replicas join it
   * when replication reports them caught up. The leader must stay a replica.
   */
  async reassign(req: ReassignPartitionsRequestV1): Promise<{ changed: number; states: PartitionStateV1[] }> {
    const dropped: { row: StateRow; nodeId: string }[] = [];
    let announced: OutboxBatch | null = null;
    const updated = await this.db.transaction(async (m) => {
      const rows: StateRow[] = await m.query(
        `SELECT * FROM consensus.partition_state WHERE resource = $1 AND partition = ANY($2::int[])
          ORDER BY partition FOR UPDATE`,
        [req.resource, req.reassignments.map((r) => r.partition)],
      );
      const byPartition = new Map(rows.map((r) => [r.partition, r]));
      const changes: LeaderAndIsr[] = [];
      const removedBy = new Map<number, string[]>();
      for (const { partition, replicas } of req.reassignments) {
        const row = byPartition.get(partition);
        if (!row) throw new TesseraError('NOT_FOUND', `${req.resource}/${partition} does not exist`);
        if (new Set(replicas).size !== replicas.length) throw new TesseraError('INVALID', `${req.resource}/${partition}: replicas must be distinct`);
        if (row.leader !== null && !replicas.includes(row.leader)) {
          throw new TesseraError('CONFLICT', `${req.resource}/${partition}: leader ${row.leader} must stay a replica; move leadership first`);
        }
        const isr = replicas.filter((n) => row.isr.includes(n));
        if (row.leader !== null && isr.length === 0) throw new TesseraError('CONFLICT', `${req.resource}/${partition}: no in-sync replica would remain`);
        if (replicas.join() === row.replicas.join()) continue;
        removedBy.set(partition, row.replicas.filter((n) => !replicas.includes(n)));
        changes.push({ ...this.toLeaderAndIsr(row), replicas, isr: row.leader === null ? row.isr : isr, partitionEpoch: BigInt(row.partition_epoch) + 1n });
      }
      const done = await this.applyChanges(m, changes);
      announced = await this.announce(m, 'REASSIGN', done);
      for (const row of done) for (const nodeId of removedBy.get(row.partition) ?? []) dropped.push({ row, nodeId });
      return done;
    });
    this.afterCommit(updated, [], announced, dropped);
    if (updated.length > 0) this.log.info({ resource: req.resource, changed: updated.length }, 'replicas reassigned');
    return { changed: updated.length, states: updated.map(toWire) };
  }

  private toLeaderAndIsr(row: StateRow): LeaderAndIsr {
    return {
      resource: row.resource,
      partition: row.partition,
      replicas: row.replicas,
      leader: row.leader,
      leaderEpoch: BigInt(row.leader_epoch),
      isr: row.isr,
      partitionEpoch: BigInt(row.partition_epoch),
    };
  }

  /** One page of committed state, ordered by (resource, partition). */
  async query(req: QueryPartitionsRequestV1): Promise<QueryPartitionsReplyV1> {
    const limit = Math.min(req.limit ?? QUERY_PAGE_MAX, QUERY_PAGE_MAX);
    const rows: StateRow[] = await this.db.query(
      `SELECT * FROM consensus.partition_state
        WHERE ($1::text IS NULL OR resource = $1)
          AND ($2::text IS NULL OR (resource, partition) > ($2::text, $3::int))
        ORDER BY resource, partition LIMIT $4`,
      [req.resource ?? null, req.afterResource ?? null, req.afterPartition ?? -1, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      partitions: page.map(toWire),
      next: rows.length > limit && last ? { afterResource: last.resource, afterPartition: last.partition } : null,
    };
  }

  /**
   * A node's roles, ordered by (resource, partition). With `limit`, one page and where the next
   * starts (null on the last): at 10,000 partitions a node holds ~6,000 roles, over NATS's 1 MB.
   * An ISR member that is no longer a replica is listed too (as NONE): its log must stay, since a
   * leader could yet be chosen from the ISR, and a node sweeping unlisted logs would delete it.
   */
  async rolesFor(
    nodeId: string,
    page: { limit?: number; afterResource?: string; afterPartition?: number } = {},
  ): Promise<NodeRolesReplyV1> {
    const limit = page.limit === undefined ? null : Math.min(page.limit, QUERY_PAGE_MAX);
    const rows: StateRow[] = await this.db.query(
      `SELECT * FROM consensus.partition_state
        WHERE ($1 = ANY(replicas) OR $1 = ANY(isr) OR leader = $1)
          AND ($2::text IS NULL OR (resource, partition) > ($2::text, $3::int))
        ORDER BY resource, partition LIMIT $4`,
      [nodeId, page.afterResource ?? null, page.afterPartition ?? -1, limit === null ? null : limit + 1],
    );
    if (limit === null) return { assignments: rows.map((r) => roleOf(r, nodeId)) };
    const taken = rows.slice(0, limit);
    const last = taken[taken.length - 1];
    return {
      assignments: taken.map((r) => roleOf(r, nodeId)),
      next: rows.length > limit && last ? { afterResource: last.resource, afterPartition: last.partition } : null,
    };
  }

  private async announce(
    m: EntityManager,
    reason: PartitionsChangedEventV1['reason'],
    rows: StateRow[],
  ): Promise<OutboxBatch | null> {
    const events: OutboxEvent[] = [];
    for (let i = 0; i < rows.length; i += EVENT_CHUNK) {
      const payload: Omit<PartitionsChangedEventV1, 'eventId' | 'at'> = {
        reason,
        changes: rows.slice(i, i + EVENT_CHUNK).map(toWire),
      };
      events.push({ subject: Subjects.events.partitionsChanged, payload: { ...payload } });
    }
    return appendBatchToOutbox(m, 'consensus', events);
  }

  /**
   * After a commit: its events straight to NATS (a failover waits on them; the relay is the net,
   * and a kick when there is nothing to hand over), then the nodes' new roles.
   */
  private afterCommit(
    changed: StateRow[],
    removed: StateRow[],
    announced: OutboxBatch | null,
    dropped: { row: StateRow; nodeId: string }[] = [],
  ): void {
    if (announced) void this.relay.publishCommitted(announced);
    else this.relay.kick();
    const commands = new Map<string, RoleAssignmentV1[]>();
    const add = (nodeId: string, assignment: RoleAssignmentV1) => {
      const list = commands.get(nodeId) ?? [];
      list.push(assignment);
      commands.set(nodeId, list);
    };
    for (const row of changed) {
      for (const nodeId of new Set([...row.replicas, ...(row.leader ? [row.leader] : [])])) add(nodeId, roleOf(row, nodeId));
    }
    // A deleted resource's partitions have no replicas and no ISR any more: said so, a node
    // knows the data is nobody's (kv-node then deletes its log).
    for (const row of removed) {
      for (const nodeId of row.replicas)
        add(nodeId, { ...roleOf(row, nodeId), role: 'NONE', leader: null, isr: [], replicas: [] });
    }
    // Replicas taken off a partition by a reassignment: their role is NONE now.
    for (const { row, nodeId } of dropped) add(nodeId, roleOf(row, nodeId));
    this.dispatcher.dispatch(commands);
  }
}
