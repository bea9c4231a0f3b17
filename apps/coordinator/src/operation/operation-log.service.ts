import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type OperationKind,
  type OperationState,
  type OperationV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { NetworkManager } from '@tessera/messaging';

interface OperationRow {
  id: string;
  kind: OperationKind;
  state: OperationState;
  subject: string;
  done: number;
  total: number;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
}

function toView(r: OperationRow): OperationV1 {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    subject: r.subject,
    progress: { done: r.done, total: r.total },
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    error: r.error,
  };
}

/**
 * The coordinator's own operations (resource creation, deletion), merged on read with the
 * recovery service's (failovers), so `GET /operations` shows everything running.
 */
@Injectable()
export class OperationLog {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
  ) {
    this.log.setContext(OperationLog.name);
  }

  async start(m: EntityManager, id: string, kind: OperationKind, subject: string, total: number): Promise<void> {
    await m.query(
      `INSERT INTO coordinator.operation (id, kind, state, subject, total) VALUES ($1, $2, 'RUNNING', $3, $4)`,
      [id, kind, subject, total],
    );
  }

  async finish(m: EntityManager, id: string, state: OperationState, done: number, error?: string): Promise<void> {
    await m.query(
      `UPDATE coordinator.operation SET state = $2, done = $3, error = $4, finished_at = now()
        WHERE id = $1 AND finished_at IS NULL`,
      [id, state, done, error ?? null],
    );
  }

  async finishBySubject(m: EntityManager, kind: OperationKind, subject: string, state: OperationState, done: number): Promise<void> {
    await m.query(
      `UPDATE coordinator.operation SET state = $3, done = $4, finished_at = now()
        WHERE kind = $1 AND subject = $2 AND finished_at IS NULL`,
      [kind, subject, state, done],
    );
  }

  async list(limit = 200): Promise<OperationV1[]> {
    const rows: OperationRow[] = await this.db.query(
      `SELECT * FROM coordinator.operation ORDER BY started_at DESC LIMIT $1`,
      [limit],
    );
    const own = rows.map(toView);
    const recovery = await this.recoveryOperations(limit);
    return [...own, ...recovery].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
  }

  async get(id: string): Promise<OperationV1> {
    if (/^[0-9a-f-]{36}$/i.test(id)) {
      const rows: OperationRow[] = await this.db.query(`SELECT * FROM coordinator.operation WHERE id = $1`, [id]);
      if (rows.length > 0) return toView(rows[0]);
    }
    const found = (await this.recoveryOperations(1000)).find((o) => o.id === id);
    if (!found) throw new TesseraError('NOT_FOUND', `no operation ${id}`);
    return found;
  }

  /** Forwards an operator's grace delay to recovery, which owns re-replications. */
  async setGrace(id: string, graceMs: number): Promise<OperationV1> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new TesseraError('NOT_FOUND', `no operation ${id}`);
    }
    const reply = await this.network.request('recovery.operation.update', Subjects.recovery.updateOperation, { id, graceMs }, { timeoutMs: 5_000 });
    return reply.operation;
  }

  private async recoveryOperations(limit: number): Promise<OperationV1[]> {
    try {
      const reply = await this.network.request('recovery.operation.list', Subjects.recovery.listOperations, { limit }, { timeoutMs: 1_000 });
      return reply.operations;
    } catch (error) {
      this.log.warn({ err: error }, 'recovery did not answer; its operations are left out');
      return [];
    }
  }
}
