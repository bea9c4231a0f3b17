import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import {
  MAX_LEADER_MOVES,
  type MoveLeaderRequestV1,
  type OperationKind,
  type PartitionStateV1,
  Subjects,
  TesseraError,
} from '@tessera/contracts';
import { NetworkManager, queryAllPartitions } from '@tessera/messaging';
import { MetricsService, SERVICE_CONFIG } from '@tessera/service-kit';
import { type CoordinatorConfig } from '../config/coordinator.config';
import { ControllerLease } from '../controller/controller-lease.service';
import { admit, nodesOf, phaseOf, type PlannedMove, unionReplicas } from './migration-phase';
import { MigrationPlanner } from './migration-planner.service';

type MigrationKind = Extract<OperationKind, 'REBALANCE' | 'DRAIN' | 'REPLACE'>;

interface MigrationDetail {
  moves: PlannedMove[];
  /** Drain: move leadership off this node first, so it never leads while its data moves. */
  leadersOffNode?: string;
}

interface OperationRow {
  id: string;
  kind: MigrationKind;
  subject: string;
  done: number;
  total: number;
  detail: MigrationDetail;
}

const TICK_MS = 500;
const HOUSEKEEPING_MS = 5_000;

/**
 * MigrationDriver: executes migration plans make before break, throttled, as the active
 * coordinator only. It keeps no state of its own: each tick reads what consensus committed and
 * takes the next step of each admitted move (add → wait in sync → move leadership → remove),
 * so a standby that takes over simply continues. Also starts the automatic rebalance onto a node
 * that joins empty.
 */
@Injectable()
export class MigrationDriver implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private lastHousekeeping = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly network: NetworkManager,
    private readonly controller: ControllerLease,
    private readonly planner: MigrationPlanner,
    @Inject(SERVICE_CONFIG) private readonly config: CoordinatorConfig,
    private readonly log: PinoLogger,
    private readonly metrics: MetricsService,
  ) {
    this.log.setContext(MigrationDriver.name);
  }

  onApplicationBootstrap(): void {
    this.metrics.gauge('tessera_migrations_running', 'Migration operations running', [], async (g) => {
      const rows: { n: number }[] = await this.db.query(
        `SELECT count(*)::int AS n FROM coordinator.operation WHERE state = 'RUNNING' AND kind IN ('REBALANCE','DRAIN','REPLACE')`,
      );
      g.set(rows[0]?.n ?? 0);
    });
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Records the new targets and the operation in one transaction; returns its id, or null when
   * nothing has to move. One migration per resource at a time.
   */
  async start(kind: MigrationKind, subject: string, moves: PlannedMove[], leadersOffNode?: string): Promise<string | null> {
    if (moves.length === 0 && !leadersOffNode) return null;
    const id = randomUUID();
    const resources = [...new Set(moves.map((m) => m.resource))];
    await this.db.transaction(async (m) => {
      const busy: { subject: string; kind: string }[] = await m.query(
        `SELECT subject, kind FROM coordinator.operation
          WHERE state = 'RUNNING' AND kind IN ('REBALANCE','DRAIN','REPLACE')
            AND detail -> 'moves' @> ANY (SELECT jsonb_build_array(jsonb_build_object('resource', r)) FROM unnest($1::text[]) r)
          FOR UPDATE`,
        [resources],
      );
      if (busy.length > 0) {
        throw new TesseraError('CONFLICT', `a ${busy[0].kind.toLowerCase()} of ${busy[0].subject} is already moving these partitions`);
      }
      if (moves.length > 0) {
        await m.query(
          `UPDATE coordinator.partition_map p SET target = u.target::text[]
             FROM unnest($1::text[], $2::int[], $3::text[]) AS u(resource, partition, target)
            WHERE p.resource = u.resource AND p.partition = u.partition`,
          [moves.map((x) => x.resource), moves.map((x) => x.partition), moves.map((x) => `{${x.to.join(',')}}`)],
        );
      }
      const detail: MigrationDetail = { moves, ...(leadersOffNode ? { leadersOffNode } : {}) };
      await m.query(
        `INSERT INTO coordinator.operation (id, kind, state, subject, total, detail) VALUES ($1, $2, 'RUNNING', $3, $4, $5)`,
        [id, kind, subject, moves.length, JSON.stringify(detail)],
      );
    });
    this.log.info({ operationId: id, kind, subject, moves: moves.length }, 'migration started');
    setImmediate(() => void this.tick());
    return id;
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.controller.isActive) return;
    this.ticking = true;
    try {
      const ops: OperationRow[] = await this.db.query(
        `SELECT id, kind, subject, done, total, detail FROM coordinator.operation
          WHERE state = 'RUNNING' AND kind IN ('REBALANCE','DRAIN','REPLACE') ORDER BY started_at`,
      );
      for (const op of ops) {
        try {
          await this.advance(op);
        } catch (error) {
          this.log.warn({ operationId: op.id, err: error }, 'migration step failed; will retry');
        }
      }
      if (Date.now() - this.lastHousekeeping > HOUSEKEEPING_MS) {
        this.lastHousekeeping = Date.now();
        await this.housekeeping(ops.length);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'migration tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private async states(resources: string[]): Promise<Map<string, PartitionStateV1>> {
    const states = new Map<string, PartitionStateV1>();
    for (const resource of resources) {
      for (const s of await queryAllPartitions(this.network, resource)) states.set(`${s.resource}/${s.partition}`, s);
    }
    return states;
  }

  private async advance(op: OperationRow): Promise<void> {
    const moves = op.detail.moves;
    const resources = [...new Set(moves.map((m) => m.resource))];
    const drained = op.detail.leadersOffNode;
    if (drained) {
      const all = await this.planner.activeResources();
      for (const r of all) if (!resources.includes(r)) resources.push(r);
    }
    const states = await this.states(resources);

    // A drain hands the node's leaderships over first, in a tick of their own: the states read
    // are stale once they move, and the copies the moves start (every service busy at once)
    // would compete with clients learning the new leaders, which matters more.
    if (drained && (await this.moveLeadersOff(drained, states, moves)) > 0) return;

    const phases = moves.map((m) => {
      const state = states.get(`${m.resource}/${m.partition}`);
      return state ? phaseOf(m, state) : 'DONE'; // a partition that no longer exists has nothing to move
    });
    const done = phases.filter((p) => p === 'DONE').length;
    const admitted = admit(
      moves
        .map((m, i) => ({
          key: String(i),
          nodes: nodesOf(m, states.get(`${m.resource}/${m.partition}`)?.leader ?? null),
          started: phases[i] !== 'ADD' && phases[i] !== 'DONE',
        }))
        .filter((_, i) => phases[i] !== 'DONE'),
      { maxMovesPerNode: this.config.maxMovesPerNode, maxMovesPerCluster: this.config.maxMovesPerCluster },
    );

    const reassign = new Map<string, { partition: number; replicas: string[] }[]>();
    const leaderMoves: PlannedMove[] = [];
    moves.forEach((m, i) => {
      if (!admitted.has(String(i))) return;
      const state = states.get(`${m.resource}/${m.partition}`);
      if (!state) return;
      const list = reassign.get(m.resource) ?? [];
      if (phases[i] === 'ADD') list.push({ partition: m.partition, replicas: unionReplicas(m, state) });
      else if (phases[i] === 'REMOVE') list.push({ partition: m.partition, replicas: m.to });
      else if (phases[i] === 'MOVE_LEADERSHIP') leaderMoves.push(m);
      reassign.set(m.resource, list);
    });
    for (const [resource, reassignments] of reassign) {
      if (reassignments.length === 0) continue;
      await this.network.request('consensus.partition.reassign', Subjects.consensus.reassignPartitions, { resource, reassignments }, { timeoutMs: 10_000 });
    }
    await this.moveLeaders(
      leaderMoves.flatMap((m) => (m.to[0] ? [{ resource: m.resource, partition: m.partition, leader: m.to[0] }] : [])),
    );

    const leadersLeft = drained ? [...states.values()].some((s) => s.leader === drained) : false;
    const finished = done === moves.length && !leadersLeft;
    if (done !== op.done || finished) {
      await this.db.transaction(async (m) => {
        await this.controller.fence(m);
        await m.query(
          `UPDATE coordinator.operation SET done = $2,
             state = CASE WHEN $3 THEN 'SUCCEEDED' ELSE state END,
             finished_at = CASE WHEN $3 THEN now() ELSE finished_at END
           WHERE id = $1 AND state = 'RUNNING' AND detail = $4::jsonb`,
          // Compare-and-set on the plan read: moves folded in meanwhile keep it running.
          [op.id, done, finished, JSON.stringify(op.detail)],
        );
      });
      if (finished) this.log.info({ operationId: op.id, kind: op.kind, subject: op.subject, moves: moves.length }, 'migration finished');
    }
  }

  /**
   * Drain: leadership leaves the node first, to an in-sync replica (no leaderless moment); sent
   * at once, so consensus commits them as one map version. Returns how many moved.
   */
  private async moveLeadersOff(nodeId: string, states: Map<string, PartitionStateV1>, moves: PlannedMove[]): Promise<number> {
    const preferred = new Map(moves.map((m) => [`${m.resource}/${m.partition}`, m.to]));
    const handoff: MoveLeaderRequestV1[] = [];
    for (const s of states.values()) {
      if (s.leader !== nodeId) continue;
      const order = [...(preferred.get(`${s.resource}/${s.partition}`) ?? []), ...s.replicas];
      const next = order.find((n) => n !== nodeId && s.isr.includes(n));
      if (next) handoff.push({ resource: s.resource, partition: s.partition, leader: next });
      // else no other in-sync replica yet: it moves with its data
    }
    return this.moveLeaders(handoff);
  }

  /**
   * Sends leader moves to consensus as one request (per MAX_LEADER_MOVES), so that they commit
   * together: one transaction, one map version, one role command per node. Returns how many
   * moved; a refused move is logged and tried again at a later tick.
   */
  private async moveLeaders(moves: MoveLeaderRequestV1[]): Promise<number> {
    let moved = 0;
    for (let i = 0; i < moves.length; i += MAX_LEADER_MOVES) {
      const chunk = moves.slice(i, i + MAX_LEADER_MOVES);
      try {
        const { results } = await this.network.request('consensus.partition.leader.moves', Subjects.consensus.moveLeaders, { moves: chunk }, { timeoutMs: 10_000 });
        results.forEach((r, j) => {
          if (r.ok) moved++;
          else this.log.warn({ resource: chunk[j]?.resource, partition: chunk[j]?.partition, code: r.code, reason: r.message }, 'leader move refused; will retry');
        });
      } catch (error) {
        this.log.warn({ moves: chunk.length, err: error }, 'leader moves failed; will retry');
      }
    }
    return moved;
  }

  /**
   * Automatic plans: rebalance onto nodes that join empty. (Re-placing a dead node is recovery's
   * call, after its grace delay: `coordinator.node.replace`.)
   */
  private async housekeeping(running: number): Promise<void> {
    if (!this.config.autoRebalance || running > 0) return;
    const empty: { id: string }[] = await this.db.query(
      `SELECT n.id FROM coordinator.node n
        WHERE n.admin_state = 'ACTIVE' AND n.liveness = 'ALIVE'
          AND NOT EXISTS (SELECT 1 FROM coordinator.partition_map p WHERE n.id = ANY(p.target))
          AND EXISTS (SELECT 1 FROM coordinator.resource r WHERE r.state = 'ACTIVE')`,
    );
    if (empty.length === 0) return;
    const nodes = await this.planner.nodes();
    for (const resource of await this.planner.activeResources()) {
      const plan = await this.planner.plan(resource, nodes);
      if (plan.moves.length > 0) {
        await this.start('REBALANCE', resource, plan.moves).catch((error: unknown) => this.log.warn({ resource, err: error }, 'join rebalance not started'));
      }
    }
  }

  /**
   * Re-places a node's replicas elsewhere (recovery asks once the grace delay is over; operators
   * may ask at once). Idempotent: a re-placement already running for the node is returned. When
   * another migration is moving the same partitions (a drain or join rebalance that may itself be
   * waiting on the dead node), the new targets are folded into it rather than refused: that
   * migration could otherwise never finish, and nothing could re-place the node.
   */
  async replace(nodeId: string): Promise<string | null> {
    const running: { id: string }[] = await this.db.query(
      `SELECT id FROM coordinator.operation WHERE state = 'RUNNING' AND kind = 'REPLACE' AND subject = $1`,
      [nodeId],
    );
    if (running.length > 0) return running[0].id;
    const nodes = await this.planner.nodes({ [nodeId]: 'DEAD' });
    if (!nodes.some((n) => n.id === nodeId)) throw new TesseraError('NOT_FOUND', `no node named ${nodeId}`);
    const moves: PlannedMove[] = [];
    for (const resource of await this.planner.activeResources()) {
      moves.push(...(await this.planner.plan(resource, nodes)).moves);
    }
    const folded = await this.foldIntoRunning(moves);
    if (folded.operationId) {
      this.log.info({ nodeId, operationId: folded.operationId, moves: moves.length - folded.rest.length }, 're-placement folded into a running migration');
    }
    const own = await this.start('REPLACE', nodeId, folded.rest);
    return own ?? folded.operationId;
  }

  /**
   * Merges moves into the running migrations of the same resources (in one transaction, rows
   * locked): a partition already moving keeps its original `from` and takes the new target.
   * Returns the moves of resources no migration is moving, and the first operation merged into.
   */
  private async foldIntoRunning(moves: PlannedMove[]): Promise<{ operationId: string | null; rest: PlannedMove[] }> {
    if (moves.length === 0) return { operationId: null, rest: [] };
    // A command like start() (any instance serves it), so not fenced; the rows are locked.
    return this.db.transaction(async (m) => {
      const ops: { id: string; detail: MigrationDetail }[] = await m.query(
        `SELECT id, detail FROM coordinator.operation
          WHERE state = 'RUNNING' AND kind IN ('REBALANCE','DRAIN','REPLACE') ORDER BY started_at FOR UPDATE`,
      );
      const owner = new Map<string, { id: string; detail: MigrationDetail }>();
      for (const op of ops) for (const mv of op.detail.moves) if (!owner.has(mv.resource)) owner.set(mv.resource, op);
      const rest: PlannedMove[] = [];
      const touched = new Map<string, { id: string; detail: MigrationDetail }>();
      for (const mv of moves) {
        const op = owner.get(mv.resource);
        if (!op) {
          rest.push(mv);
          continue;
        }
        const existing = op.detail.moves.find((x) => x.resource === mv.resource && x.partition === mv.partition);
        if (existing) existing.to = mv.to;
        else op.detail.moves.push(mv);
        touched.set(op.id, op);
      }
      const foldedMoves = moves.filter((mv) => owner.has(mv.resource));
      if (foldedMoves.length > 0) {
        await m.query(
          `UPDATE coordinator.partition_map p SET target = u.target::text[]
             FROM unnest($1::text[], $2::int[], $3::text[]) AS u(resource, partition, target)
            WHERE p.resource = u.resource AND p.partition = u.partition`,
          [foldedMoves.map((x) => x.resource), foldedMoves.map((x) => x.partition), foldedMoves.map((x) => `{${x.to.join(',')}}`)],
        );
      }
      for (const op of touched.values()) {
        await m.query(`UPDATE coordinator.operation SET detail = $2, total = $3 WHERE id = $1 AND state = 'RUNNING'`, [
          op.id,
          JSON.stringify(op.detail),
          op.detail.moves.length,
        ]);
      }
      const first = [...touched.keys()][0] ?? null;
      return { operationId: first, rest };
    });
  }

  /** Drain: every resource re-planned without the node; leadership leaves it first. */
  async drain(nodeId: string): Promise<string | null> {
    const nodes = await this.planner.nodes({ [nodeId]: 'DRAINING' });
    const moves: PlannedMove[] = [];
    for (const resource of await this.planner.activeResources()) {
      moves.push(...(await this.planner.plan(resource, nodes)).moves);
    }
    return this.start('DRAIN', nodeId, moves, nodeId);
  }
}
