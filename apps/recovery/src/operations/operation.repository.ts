import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { claimInbox } from '@tessera/persistence';
import { RecoveryLease } from '../lease/recovery-lease.service';
import { type ElectReason, type ElectStep, type OperationRecord } from './operation-view';

const COLUMNS = `id, kind, state, node_id, done, total, steps, started_at, finished_at, error`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
   */
  async createForEvent(
    eventId: string,
    nodeId: string,
    reason: ElectReason,
  ): Promise<OperationRecord | null> {
    return this.dataSource.transaction(async (manager) => {
      await this.lease.fence(manager);
      if (!(await claimInbox(manager, 'recovery', eventId))) return null;
      return this.insert(manager, nodeId, reason);
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

  /** Operations a crash interrupted, oldest first. */
  async unfinished(): Promise<OperationRecord[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM recovery.operation WHERE state IN ('PENDING', 'RUNNING') ORDER BY started_at, id`,
    );
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
