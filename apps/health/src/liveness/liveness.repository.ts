import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isToken, LIVENESS_STATES, type LivenessState, Subjects } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/persistence';
import { type LivenessWrite } from './liveness-batch';

export interface PersistedLiveness {
  nodeId: string;
  state: LivenessState;
  incarnation: number;
}

/** A write that changed Postgres, with the state it replaced (null for a new node). */
export interface AppliedTransition {
  nodeId: string;
  state: LivenessState;
  previous: LivenessState | null;
}

function isLivenessState(value: unknown): value is LivenessState {
  return typeof value === 'string' && (LIVENESS_STATES as readonly string[]).includes(value);
}

/** health.node_liveness: written once per state change, never per heartbeat. */
@Injectable()
export class LivenessRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(): Promise<PersistedLiveness[]> {
    const rows: { node_id: string; state: string; incarnation: string }[] =
      await this.dataSource.query(
        `SELECT node_id, state, incarnation::text AS incarnation FROM health.node_liveness ORDER BY node_id`,
      );
    return rows
      .filter((r) => isToken(r.node_id) && isLivenessState(r.state))
      .map((r) => ({
        nodeId: r.node_id,
        state: r.state as LivenessState,
        incarnation: Number(r.incarnation),
      }));
  }

  /**
   * Persists a batch of state changes and their `events.internal.node.liveness` events in one
   * transaction. The rows are locked first so `previous` is what this write replaced; a row that
   * already holds the state (a retry after a commit whose reply was lost) is not announced again.
   */
  async apply(writes: readonly LivenessWrite[]): Promise<AppliedTransition[]> {
    if (writes.length === 0) return [];
    return this.dataSource.transaction(async (manager) => {
      const ids = writes.map((w) => w.nodeId);
      const before: { node_id: string; state: string }[] = await manager.query(
        `SELECT node_id, state FROM health.node_liveness WHERE node_id = ANY($1::text[]) FOR UPDATE`,
        [ids],
      );
      const previous = new Map(
        before.map((r) => [r.node_id, isLivenessState(r.state) ? r.state : null]),
      );
      const changed: { node_id: string; state: LivenessState }[] = await manager.query(
        `INSERT INTO health.node_liveness AS l (node_id, state, incarnation, changed_at)
         SELECT node_id, state, incarnation, now()
           FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(node_id, state, incarnation)
         ON CONFLICT (node_id) DO UPDATE
            SET state = EXCLUDED.state,
                incarnation = GREATEST(l.incarnation, EXCLUDED.incarnation),
                changed_at = EXCLUDED.changed_at
          WHERE l.state IS DISTINCT FROM EXCLUDED.state
         RETURNING node_id, state`,
        [ids, writes.map((w) => w.state), writes.map((w) => String(w.incarnation))],
      );
      const applied = changed.map((r) => ({
        nodeId: r.node_id,
        state: r.state,
        previous: previous.get(r.node_id) ?? null,
      }));
      await appendToOutbox(
        manager,
        'health',
        applied.map((a) => ({
          subject: Subjects.events.nodeLiveness,
          payload: { nodeId: a.nodeId, state: a.state, previous: a.previous },
        })),
      );
      return applied;
    });
  }
}
