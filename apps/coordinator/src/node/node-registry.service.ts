import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type AdminState,
  type LivenessState,
  LIVENESS_STATES,
  type NodeLivenessEventV1,
  type NodeLivenessV1,
  type NodeState,
  type NodeStateEventV1,
  type NodeViewV1,
  type RegisterNodeReplyV1,
  type RegisterNodeRequestV1,
  Subjects,
  TesseraError,
  nodeStateOf,
} from '@tessera/contracts';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import { appendToOutbox, claimInbox } from '@tessera/persistence';
import { MetricsService, OUTBOX_RELAY } from '@tessera/service-kit';
import { currentMapVersion } from '../map/map-version';

export const HEARTBEAT_INTERVAL_MS = 200;

interface NodeRow {
  id: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
  admin_state: AdminState;
  liveness: LivenessState | null;
  incarnation: string;
}

function isLivenessEvent(value: unknown): value is NodeLivenessEventV1 {
  const v = value as Partial<NodeLivenessEventV1> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.eventId === 'string' &&
    typeof v.nodeId === 'string' &&
    (LIVENESS_STATES as readonly unknown[]).includes(v.state)
  );
}

/**
 * Nodes: registration and admin state are ours; liveness comes from health's events and is
 * merged into the public node state, announced as `events.node.state` when the merge changes.
 */
@Injectable()
export class NodeRegistry implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly network: NetworkManager,
    private readonly log: PinoLogger,
    private readonly metrics: MetricsService,
  ) {
    this.log.setContext(NodeRegistry.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.metrics.gauge('tessera_nodes', 'Registered nodes by state', ['state'], async (g) => {
      const rows: { admin_state: AdminState; liveness: LivenessState | null }[] = await this.db.query(
        `SELECT admin_state, liveness FROM coordinator.node`,
      );
      g.reset();
      for (const r of rows) g.inc({ state: nodeStateOf(r.admin_state, r.liveness) });
    });
    await this.network.consumeEvents('coordinator-liveness', Subjects.events.nodeLiveness, (payload) =>
      this.applyLiveness(payload),
    );
  }

  async register(req: RegisterNodeRequestV1): Promise<RegisterNodeReplyV1> {
    const incarnation = await this.db.transaction(async (m) => {
      const rows: { incarnation: string }[] = await m.query(
        `INSERT INTO coordinator.node (id, zone, rack, capacity, tags, incarnation)
         VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (id) DO UPDATE SET zone = EXCLUDED.zone, rack = EXCLUDED.rack,
           capacity = EXCLUDED.capacity, tags = EXCLUDED.tags,
           admin_state = CASE WHEN coordinator.node.admin_state = 'LEFT' THEN 'ACTIVE' ELSE coordinator.node.admin_state END,
           incarnation = coordinator.node.incarnation + 1, updated_at = now()
         RETURNING incarnation`,
        [req.nodeId, req.zone, req.rack, req.capacity, req.tags],
      );
      const value = Number(rows[0].incarnation);
      await appendToOutbox(m, 'coordinator', [
        { subject: Subjects.events.nodeRegistered, payload: { nodeId: req.nodeId, incarnation: value } },
      ]);
      return value;
    });
    this.relay.kick();
    this.log.info({ nodeId: req.nodeId, zone: req.zone, rack: req.rack, incarnation }, 'node registered');
    return { nodeId: req.nodeId, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, incarnation };
  }

  async list(): Promise<NodeViewV1[]> {
    const rows: NodeRow[] = await this.db.query(`SELECT * FROM coordinator.node ORDER BY id`);
    const heartbeats = await this.lastHeartbeats();
    return rows.map((r) => this.toView(r, heartbeats.get(r.id) ?? null));
  }

  async get(id: string): Promise<NodeViewV1> {
    const rows: NodeRow[] = await this.db.query(`SELECT * FROM coordinator.node WHERE id = $1`, [id]);
    if (rows.length === 0) throw new TesseraError('NOT_FOUND', `no node named ${id}`);
    const heartbeats = await this.lastHeartbeats(id);
    return this.toView(rows[0], heartbeats.get(id) ?? null);
  }

  /** Nodes placement may use: not draining or gone, and not known dead. */
  async eligible(): Promise<NodeRow[]> {
    return this.db.query(
      `SELECT * FROM coordinator.node WHERE admin_state = 'ACTIVE' AND liveness IN ('ALIVE', 'SUSPECT') ORDER BY id`,
    );
  }

  async setAdminState(id: string, next: AdminState): Promise<NodeViewV1> {
    const changed = await this.db.transaction(async (m) => {
      const rows: NodeRow[] = await m.query(`SELECT * FROM coordinator.node WHERE id = $1 FOR UPDATE`, [id]);
      if (rows.length === 0) throw new TesseraError('NOT_FOUND', `no node named ${id}`);
      const before = rows[0];
      if (before.admin_state === next) return false;
      await m.query(`UPDATE coordinator.node SET admin_state = $2, updated_at = now() WHERE id = $1`, [id, next]);
      await this.announceState(m, id, nodeStateOf(before.admin_state, before.liveness), nodeStateOf(next, before.liveness));
      return true;
    });
    if (changed) {
      this.relay.kick();
      this.log.info({ nodeId: id, adminState: next }, 'node admin state changed');
    }
    return this.get(id);
  }

  /** Merges a liveness change from health; idempotent by event id. */
  async applyLiveness(payload: unknown): Promise<void> {
    if (!isLivenessEvent(payload)) {
      this.log.warn({}, 'ignoring a malformed liveness event');
      return;
    }
    const changed = await this.db.transaction(async (m) => {
      if (!(await claimInbox(m, 'coordinator', payload.eventId))) return false;
      const rows: NodeRow[] = await m.query(`SELECT * FROM coordinator.node WHERE id = $1 FOR UPDATE`, [payload.nodeId]);
      if (rows.length === 0) {
        this.log.warn({ nodeId: payload.nodeId }, 'liveness for an unregistered node ignored');
        return false;
      }
      const before = rows[0];
      if (before.liveness === payload.state) return false;
      await m.query(`UPDATE coordinator.node SET liveness = $2, updated_at = now() WHERE id = $1`, [
        payload.nodeId,
        payload.state,
      ]);
      const previous = nodeStateOf(before.admin_state, before.liveness);
      const state = nodeStateOf(before.admin_state, payload.state);
      if (previous !== state) await this.announceState(m, payload.nodeId, previous, state);
      return true;
    });
    if (changed) {
      this.relay.kick();
      this.log.info({ nodeId: payload.nodeId, liveness: payload.state }, 'node liveness changed');
    }
  }

  private async announceState(m: EntityManager, nodeId: string, previous: NodeState, state: NodeState): Promise<void> {
    const version = await currentMapVersion(m);
    const event: Omit<NodeStateEventV1, 'eventId' | 'at'> = { version, nodeId, state, previous };
    await appendToOutbox(m, 'coordinator', [{ subject: Subjects.events.nodeState, payload: { ...event } }]);
  }

  /** Asks health for last heartbeat times; the API still answers (with null) if health is down. */
  private async lastHeartbeats(nodeId?: string): Promise<Map<string, NodeLivenessV1>> {
    try {
      const reply = await this.network.request('health.node.list', Subjects.health.listNodes, nodeId ? { nodeId } : {}, {
        timeoutMs: 1_000,
      });
      return new Map(reply.nodes.map((n) => [n.nodeId, n]));
    } catch (error) {
      this.log.warn({ err: error }, 'health did not answer; lastHeartbeatAt unknown');
      return new Map();
    }
  }

  private toView(row: NodeRow, liveness: NodeLivenessV1 | null): NodeViewV1 {
    return {
      id: row.id,
      zone: row.zone,
      rack: row.rack,
      capacity: row.capacity,
      tags: row.tags,
      state: nodeStateOf(row.admin_state, row.liveness),
      lastHeartbeatAt: liveness?.lastHeartbeatAt ?? null,
    };
  }
}
