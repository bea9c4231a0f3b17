import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { type Counter, type Histogram } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type ElectLeadersReplyV1,
  type ElectLeadersRequestV1,
  type PartitionStateV1,
  type PartitionsChangedEventV1,
  type RoleAssignmentV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { OutboxRelay } from '@tessera/messaging';
import { appendToOutbox } from '@tessera/persistence';
import { MetricsService, OUTBOX_RELAY } from '@tessera/service-kit';
import { electLeader, type LeaderAndIsr } from './election';
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
}

const EVENT_CHUNK = 1000; // keeps each event well under NATS's 1 MB payload limit

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
  }

  /** First leaders of a new resource: preferred replica leads, ISR = replicas. Idempotent. */
  async initialize(resource: string, replicas: string[][]): Promise<{ created: number }> {
    for (const [p, list] of replicas.entries()) {
      if (new Set(list).size !== list.length) {
        throw new TesseraError('INVALID', `partition ${p}: replicas must be distinct nodes`);
      }
    }
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
           (resource, partition, partition_count, replicas, leader, leader_epoch, isr, partition_epoch)
         SELECT $1, (t.i - 1)::int, $2, r.list, r.list[1], $3::bigint + 1, r.list, $4::bigint + 1
           FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS t(value, i)
           CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(t.value)) AS list) r
         RETURNING *`,
        [resource, replicas.length, floor.leader_epoch, floor.partition_epoch, JSON.stringify(replicas)],
      );
      await this.announce(m, 'INITIALIZE', inserted);
      return inserted;
    });
    this.afterCommit(rows, []);
    this.log.info({ resource, partitions: rows.length }, 'partitions initialized');
    return { created: rows.length };
  }

  /** Elects new leaders where unavailable nodes led (or nobody leads), in one transaction. */
  async elect(request: ElectLeadersRequestV1): Promise<ElectLeadersReplyV1> {
    const started = process.hrtime.bigint();
    const unavailable = new Set(request.unavailable);
    const result = await this.db.transaction(async (m) => {
      const rows: StateRow[] = await m.query(
        `SELECT * FROM consensus.partition_state
          WHERE leader IS NULL OR leader = ANY($1::text[]) OR isr && $1::text[]
          ORDER BY resource, partition FOR UPDATE`,
        [request.unavailable],
      );
      const changes: LeaderAndIsr[] = [];
      let elected = 0;
      let offline = 0;
      for (const row of rows) {
        const { outcome, next } = electLeader(
          {
            resource: row.resource,
            partition: row.partition,
            replicas: row.replicas,
            leader: row.leader,
            leaderEpoch: BigInt(row.leader_epoch),
            isr: row.isr,
            partitionEpoch: BigInt(row.partition_epoch),
          },
          unavailable,
        );
        if (outcome === 'ELECTED') elected++;
        if (next.leader === null) offline++;
        if (outcome !== 'UNCHANGED') changes.push(next);
      }
      const updated = await this.applyChanges(m, changes);
      await this.announce(m, 'ELECTION', updated);
      return { updated, elected, offline };
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.electionSeconds.observe(seconds);
    this.elections.inc({ outcome: 'elected' }, result.elected);
    this.afterCommit(result.updated, []);
    this.log.info(
      { reason: request.reason, unavailable: request.unavailable, elected: result.elected, offline: result.offline, ms: Math.round(seconds * 1000) },
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
              partition_epoch = u.partition_epoch, updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::bigint[])
              AS u(resource, partition, leader, leader_epoch, isr, partition_epoch)
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
    this.afterCommit([], removed.map((r) => ({ ...r, leader: null, isr: [], leader_epoch: r.leader_epoch })));
    this.log.info({ resource, partitions: removed.length }, 'partitions deleted');
    return { deleted: removed.length };
  }

  async query(resource?: string): Promise<PartitionStateV1[]> {
    const rows: StateRow[] = await this.db.query(
      `SELECT * FROM consensus.partition_state WHERE ($1::text IS NULL OR resource = $1)
        ORDER BY resource, partition`,
      [resource ?? null],
    );
    return rows.map(toWire);
  }

  async rolesFor(nodeId: string): Promise<RoleAssignmentV1[]> {
    const rows: StateRow[] = await this.db.query(
      `SELECT * FROM consensus.partition_state WHERE $1 = ANY(replicas) OR leader = $1
        ORDER BY resource, partition`,
      [nodeId],
    );
    return rows.map((r) => roleOf(r, nodeId));
  }

  private async announce(m: EntityManager, reason: PartitionsChangedEventV1['reason'], rows: StateRow[]): Promise<void> {
    const events = [];
    for (let i = 0; i < rows.length; i += EVENT_CHUNK) {
      const payload: Omit<PartitionsChangedEventV1, 'eventId' | 'at'> = {
        reason,
        changes: rows.slice(i, i + EVENT_CHUNK).map(toWire),
      };
      events.push({ subject: Subjects.events.partitionsChanged, payload: { ...payload } });
    }
    await appendToOutbox(m, 'consensus', events);
  }

  private afterCommit(changed: StateRow[], removed: StateRow[]): void {
    this.relay.kick();
    const commands = new Map<string, RoleAssignmentV1[]>();
    const add = (nodeId: string, assignment: RoleAssignmentV1) => {
      const list = commands.get(nodeId) ?? [];
      list.push(assignment);
      commands.set(nodeId, list);
    };
    for (const row of changed) {
      for (const nodeId of new Set([...row.replicas, ...(row.leader ? [row.leader] : [])])) add(nodeId, roleOf(row, nodeId));
    }
    for (const row of removed) {
      for (const nodeId of row.replicas) add(nodeId, { ...roleOf(row, nodeId), role: 'NONE' });
    }
    this.dispatcher.dispatch(commands);
  }
}
