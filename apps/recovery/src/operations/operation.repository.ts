import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { claimInbox } from '@tessera/persistence';
import { RecoveryLease } from '../lease/recovery-lease.service';
import {
  type ElectReason,
  type ElectStep,
  type GraceStep,
  type OperationRecord,
  type ReplaceStep,
} from './operation-view';

const COLUMNS = `id, kind, state, node_id, done, total, steps, started_at, finished_at, error, due_at`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What one liveness event started: its failover, and for a death the re-replication it schedules. */
export interface EventOperations {
  failover: OperationRecord;
  /** NODE_DEAD: the REREPLICATE waiting out the grace delay (null if one was already pending). */
  rereplication: OperationRecord | null;
  /** NODE_RETURNED: pending re-replications of the node cancelled (it came back in time). */
  cancelled: number;
}

export interface FinishedElect {
  state: 'SUCCEEDED' | 'FAILED';
  done: number;
  total: number;
  step: ElectStep;
  error: string | null;
}

/**
 * recovery.operation: every failover persisted before it acts, so a restart or a standby can
 * resume it. Every write fences on the recovery term in its own transaction (FENCED when this
 * instance is no longer the active recovery), so an ex-holder's late writes never land.
 */
@Injectable()
export class OperationRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lease: RecoveryLease,
  ) {}

  /**
   * Records a failover caused by an event, in the same transaction as the event's inbox claim:
   * null when the event was handled before (redelivery), so it never creates two operations.
   * A death also schedules the node's re-replication at `deathAt + graceMs`; a return within the
   * grace delay cancels it (the node catches up instead of being copied elsewhere).
   */
  async createForEvent(
    eventId: string,
    nodeId: string,
    reason: ElectReason,
    schedule: { deathAtMs: number; graceMs: number },
  ): Promise<EventOperations | null> {
    return this.dataSource.transaction(async (manager) => {
      await this.lease.fence(manager);
      if (!(await claimInbox(manager, 'recovery', eventId))) return null;
      const failover = await this.insert(manager, nodeId, reason);
      let rereplication: OperationRecord | null = null;
      let cancelled = 0;
      if (reason === 'NODE_DEAD') {
        rereplication = await this.scheduleRereplication(manager, nodeId, schedule);
      } else if (reason === 'NODE_RETURNED') {
        const [, n]: [unknown[], number] = await manager.query(
          `UPDATE recovery.operation
              SET state = 'CANCELLED', finished_at = now(),
                  error = 'the node returned within its grace delay'
            WHERE kind = 'REREPLICATE' AND node_id = $1 AND state = 'PENDING'`,
          [nodeId],
        );
        cancelled = n;
      }
      return { failover, rereplication, cancelled };
    });
  }

  /** Records a failover not caused by an event (a reconcile after failures). */
  async create(nodeId: string, reason: ElectReason): Promise<OperationRecord> {
    return this.dataSource.transaction(async (manager) => {
      await this.lease.fence(manager);
      return this.insert(manager, nodeId, reason);
    });
  }

  /**
   * Ends an operation: compare-and-set on its state in the write, so an operation that another
   * instance (or an earlier attempt) already ended is left as it is. Returns whether it ended it.
   */
  async finish(id: string, result: FinishedElect): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await this.lease.fence(manager);
      const [, updated]: [unknown[], number] = await manager.query(
        `UPDATE recovery.operation
            SET state = $2, done = $3, total = $4, steps = $5::jsonb, finished_at = now(), error = $6
          WHERE id = $1 AND state IN ('PENDING', 'RUNNING')`,
        [id, result.state, result.done, result.total, JSON.stringify([result.step]), result.error],
      );
      return updated === 1;
    });
  }

  /** Failovers a crash interrupted, oldest first (re-replications are driven on their own). */
  async unfinished(): Promise<OperationRecord[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM recovery.operation
        WHERE kind = 'FAILOVER' AND state IN ('PENDING', 'RUNNING') ORDER BY started_at, id`,
    );
  }

  /** Re-replications to act on now: running ones, and pending ones whose grace delay is over. */
  async rereplicationsDue(): Promise<OperationRecord[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM recovery.operation
        WHERE kind = 'REREPLICATE'
          AND (state = 'RUNNING' OR (state = 'PENDING' AND due_at <= now()))
        ORDER BY due_at, id`,
    );
  }

  /**
   * Records a re-replication's progress (and its state and steps), fenced, compare-and-set on it
   * still being unfinished. `finished` ends it. Returns whether the row changed.
   */
  async recordRereplication(
    id: string,
    update: {
      state: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
      done: number;
      total: number;
      steps: [GraceStep, ReplaceStep?];
      error?: string | null;
    },
  ): Promise<boolean> {
    const finished = update.state !== 'RUNNING';
    return this.dataSource.transaction(async (manager) => {
      await this.lease.fence(manager);
      const [, updated]: [unknown[], number] = await manager.query(
        `UPDATE recovery.operation
            SET state = $2, done = $3, total = $4, steps = $5::jsonb, error = $6,
                finished_at = CASE WHEN $7 THEN now() ELSE NULL END
          WHERE id = $1 AND kind = 'REREPLICATE' AND state IN ('PENDING', 'RUNNING')`,
        [
          id,
          update.state,
          update.done,
          update.total,
          JSON.stringify(update.steps.filter((x) => x !== undefined)),
          update.error ?? null,
          finished,
        ],
      );
      return updated === 1;
    });
  }

  /**
   * An operator's new grace delay for a pending re-replication, counted from the node's death.
   * Not fenced: it is a command, not a conclusion drawn from state this instance may hold stale;
   * the compare-and-set on PENDING keeps it from touching one that already started.
   */
  async setGrace(id: string, graceMs: number): Promise<OperationRecord | null> {
    if (!UUID.test(id)) return null;
    // TypeORM returns [rows, affected] for an UPDATE … RETURNING on Postgres.
    const [rows]: [OperationRecord[], number] = await this.dataSource.query(
      `UPDATE recovery.operation
          SET due_at = (steps -> 0 ->> 'deathAt')::timestamptz + make_interval(secs => $2::int / 1000.0),
              steps = jsonb_set(steps, '{0,graceMs}', to_jsonb($2::int))
        WHERE id = $1 AND kind = 'REREPLICATE' AND state = 'PENDING'
        RETURNING ${COLUMNS}`,
      [id, graceMs],
    );
    return rows[0] ?? null;
  }

  async list(limit: number): Promise<OperationRecord[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM recovery.operation ORDER BY started_at DESC, id LIMIT $1`,
      [limit],
    );
  }

  async get(id: string): Promise<OperationRecord | null> {
    if (!UUID.test(id)) return null; // not an id we could have issued
    const rows: OperationRecord[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM recovery.operation WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async countByState(): Promise<Map<string, number>> {
    const rows: { state: string; n: string }[] = await this.dataSource.query(
      `SELECT state, count(*)::text AS n FROM recovery.operation GROUP BY state`,
    );
    return new Map(rows.map((r) => [r.state, Number(r.n)]));
  }

  private async scheduleRereplication(
    manager: EntityManager,
    nodeId: string,
    { deathAtMs, graceMs }: { deathAtMs: number; graceMs: number },
  ): Promise<OperationRecord | null> {
    const deathAt = new Date(deathAtMs).toISOString();
    const step: GraceStep = { name: 'grace', deathAt, graceMs };
    // One re-replication per node at a time: a second death event while one waits changes nothing.
    const rows: OperationRecord[] = await manager.query(
      `INSERT INTO recovery.operation (id, kind, state, node_id, done, total, steps, due_at)
       SELECT $1, 'REREPLICATE', 'PENDING', $2, 0, 0, $3::jsonb,
              $4::timestamptz + ($5::text || ' milliseconds')::interval
        WHERE NOT EXISTS (SELECT 1 FROM recovery.operation
                           WHERE kind = 'REREPLICATE' AND node_id = $2 AND state IN ('PENDING', 'RUNNING'))
       RETURNING ${COLUMNS}`,
      [randomUUID(), nodeId, JSON.stringify([step]), deathAt, graceMs],
    );
    return rows[0] ?? null;
  }

  private async insert(
    manager: EntityManager,
    nodeId: string,
    reason: ElectReason,
  ): Promise<OperationRecord> {
    const step: ElectStep = { name: 'elect', state: 'PENDING', reason };
    const rows: OperationRecord[] = await manager.query(
      `INSERT INTO recovery.operation (id, kind, state, node_id, done, total, steps)
       VALUES ($1, 'FAILOVER', 'RUNNING', $2, 0, 0, $3::jsonb)
       RETURNING ${COLUMNS}`,
      [randomUUID(), nodeId, JSON.stringify([step])],
    );
    const row = rows[0];
    if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
    return row;
  }
}
