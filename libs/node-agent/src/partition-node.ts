import {
  type AssignRolesReplyV1,
  type AssignRolesCommandV1,
  type ErrorReplyV1,
  type HeartbeatV1,
  MAX_REPLICATION_FACTOR,
  type OkReply,
  type PartitionCursorV1,
  type RegisterNodeReplyV1,
  type RegisterNodeRequestV1,
  type ReplicaPositionV1,
  type ReplicaReportV1,
  type ReplicaRole,
  type RoleAssignmentV1,
  Subjects,
  TesseraError,
  isErrorReply,
  isToken,
  parseAssignRoles,
} from '@tessera/contracts';
import { NetworkManager, decodeJson } from '@tessera/messaging';
import { type Msg } from 'nats';
import { performance } from 'node:perf_hooks';
import { EpochStore } from './epoch-store';
import { type HeartbeatChannel } from './heartbeat/heartbeat-channel';
import { Lease } from './lease';
import { type Decision, RoleTable, checkConsistent, partitionKey } from './role-table';

/** What the agent logs through: pino, or nestjs-pino's PinoLogger. */
export interface AgentLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The part of NetworkManager the agent uses (a fake in unit tests). */
export interface AgentNetwork {
  request: NetworkManager['request'];
  /** A request whose reply is returned as decoded (error replies included); throws on timeout. */
  requestRaw(
    relativeSubject: string,
    payload: unknown,
    options?: { timeoutMs?: number },
  ): Promise<unknown>;
  publish(relativeSubject: string, payload: unknown): void;
  subscribe(
    relativeSubject: string,
    handler: (msg: Msg) => Promise<void> | void,
  ): { unsubscribe(): void };
}

export interface NodeIdentity {
  nodeId: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
}

export interface PartitionNodeOptions extends NodeIdentity {
  /** Where the fencing record (`epochs.json`) lives; the embedding app may keep its data beside it. */
  dataDir: string;
  network: AgentNetwork;
  logger: AgentLogger;
  registerRetryMs?: number;
  reconcileIntervalMs?: number;
  reportIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Roles asked for per reconcile request (default 250, ~50 KB: far under NATS's 1 MB payload). */
  rolesPageSize?: number;
  /**
   * Leader lease (ms after the SEND time of the last acknowledged heartbeat). Must stay below the
   * silence after which health declares the node DEAD (≈ 950 ms with the defaults). Default 600.
   */
  leaseMs?: number;
  /** Monotonic clock in ms (default `performance.now`); tests pass a fake one. */
  clock?: () => number;
  /**
   * Where heartbeats are sent from (e.g. ThreadHeartbeats, its own thread). Default: this
   * agent's own event loop.
   */
  heartbeats?: HeartbeatChannel;
}

/** Called after a role change is durable (its epoch persisted), before the command is answered. */
export type RoleChangeListener = (
  assignment: RoleAssignmentV1,
  previous: RoleAssignmentV1 | null,
) => Promise<void> | void;

/** Consensus's answer to a reconcile: every role it holds for this node. */
export type ReconciledListener = (assignments: readonly RoleAssignmentV1[]) => Promise<void> | void;

/** A replica's durable position; leaders add their high watermark. */
export interface ReplicaPosition {
  logEndOffset: number;
  highWatermark?: number;
}

/**
 * Durable log end offset (or position) of a partition the node holds (undefined = not open yet).
 */
export type PositionProvider = (
  resource: string,
  partition: number,
) => number | ReplicaPosition | undefined;

export interface RoleView {
  role: ReplicaRole;
  /** Leader epoch of the held assignment (decimal string), null when none was ever accepted. */
  epoch: string | null;
  assignment: RoleAssignmentV1 | null;
}

const DEFAULT_HEARTBEAT_MS = 1_000;
/** Pause before retrying a failed reconcile that something is waiting for. */
const RECONCILE_RETRY_MS = 500;
/**
 * Least pause between reconciles asked for back to back (refused fetches, suspensions and lease
 * confirmations each ask): at least this, and at least as long as the last one took, so a node
 * holding thousands of roles spends at most half its time reconciling during churn.
 */
const RECONCILE_MIN_GAP_MS = 250;
/** Roles applied between two yields to the event loop (see apply). */
const YIELD_EVERY_ROLES = 100;
/** An apply this long is logged at info (debug otherwise). */
const SLOW_APPLY_MS = 1_000;
/**
 * Partitions whose role change the listeners act on at once (see apply). Each change is a chain
 * of short waits (file opens, a drain, subscriptions) on a busy event loop, so throughput grows
 * with how many are in flight: a kv-node set up a reconcile's 5,000 roles in 30 s at 32, 15 s at 256.
 */
const NOTIFY_PARALLEL = 256;
/** Least time between two replica reports asked for out of turn. */
const REPORT_SPACING_MS = 100;
export const DEFAULT_LEASE_MS = 600;
/**
 * Roles asked for per reconcile request (~200 bytes each: well under NATS's 1 MB). Small, because
 * each page is validated in one go, and heartbeats wait for it (see handleAssign).
 */
const DEFAULT_ROLES_PAGE = 250;

/** The cursor of the next roles page, null after the last; one that does not move forward is refused. */
export function nextPage(
  next: unknown,
  previous: PartitionCursorV1 | null,
): PartitionCursorV1 | null {
  if (next === null || next === undefined) return null;
  const { afterResource, afterPartition } = next as Partial<PartitionCursorV1>;
  if (
    isToken(afterResource) &&
    typeof afterPartition === 'number' &&
    Number.isInteger(afterPartition) &&
    (previous === null ||
      afterResource > previous.afterResource ||
      (afterResource === previous.afterResource && afterPartition > previous.afterPartition))
  )
    return { afterResource, afterPartition };
  throw new TesseraError(
    'INVALID',
    'consensus answered a roles page cursor that does not move forward',
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

function errorCode(error: unknown): string {
  if (error instanceof TesseraError) return error.code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

function errorReply(error: unknown): ErrorReplyV1 {
  if (error instanceof TesseraError) return error.toReply();
  return { ok: false, code: 'INTERNAL', message: 'internal error' };
}

/**
 * PartitionNode: the agent a data node embeds. It registers with the coordinator, heartbeats to
 * health, takes role commands from consensus (and asks for its roles periodically, so a lost
 * command is repaired), fences stale epochs durably, and reports its log positions.
 *
 * Every role change goes through one queue: validate → decide against the fences → persist the
 * new fences → change roles → tell the app → answer. The app serves a partition only while
 * `isLeader` says so.
 */
export class PartitionNode {
  readonly nodeId: string;
  private readonly table: RoleTable;
  private epochs: EpochStore | null = null;
  private readonly listeners = new Set<RoleChangeListener>();
  private readonly appliedListeners = new Set<() => Promise<void> | void>();
  private readonly reconciledListeners = new Set<ReconciledListener>();
  private positionOf: PositionProvider = () => undefined;
  private readonly subscriptions: { unsubscribe(): void }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly abort = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();
  private registration: RegisterNodeReplyV1 | null = null;
  private heartbeatSeq = 0;
  /** Role commands are handled one after the other (see onAssignMessage). */
  private commandTurn: Promise<unknown> = Promise.resolve();
  private publishFailing = false;
  private started = false;
  private readonly lease: Lease;
  private readonly clock: () => number;
  /** Role reconciles started so far: a confirmation must come from a later one. */
  private reconcileRounds = 0;
  private reconcileWanted = false;
  private reconcileLoop: Promise<void> | null = null;
  /** Partitions a newer epoch was seen for (FENCED): not served until a later reconcile ends. */
  private readonly suspended = new Map<string, number>();
  private reportScheduled = false;
  /** Partitions an out-of-turn report was asked for; null: a full report was. */
  private reportWanted: Set<string> | null = new Set();
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private heartbeatFailing = false;

  constructor(private readonly options: PartitionNodeOptions) {
    if (!isToken(options.nodeId))
      throw new TesseraError('INVALID', `node id "${options.nodeId}" is not a token`);
    this.nodeId = options.nodeId;
    this.table = new RoleTable(options.nodeId);
    this.clock = options.clock ?? (() => performance.now());
    this.lease = new Lease(options.leaseMs ?? DEFAULT_LEASE_MS, this.clock);
  }

  private get log(): AgentLogger {
    return this.options.logger;
  }

  get isRegistered(): boolean {
    return this.registration !== null;
  }

  get incarnation(): number | null {
    return this.registration?.incarnation ?? null;
  }

  /** Loads the fencing record. `start` calls it; tests may call it alone. */
  async open(): Promise<void> {
    this.epochs ??= await EpochStore.open(this.options.dataDir);
  }

  /**
   * Opens the fencing record, listens for role commands, registers (retrying every second until
   * the coordinator answers), then heartbeats, reconciles and reports on timers.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.open();
    const { network } = this.options;
    // Listen before registering so no command sent right after registration is missed.
    // No queue group: the command is for this node alone.
    this.subscriptions.push(
      network.subscribe(Subjects.node.assignRoles(this.nodeId), (msg) => this.onAssignMessage(msg)),
      network.subscribe(Subjects.events.partitionLeader, (msg) => this.onLeaderEvent(msg)),
    );
    this.options.heartbeats?.open?.();
    await this.register();
    if (this.abort.signal.aborted) return;
    const reg = this.registration;
    const heartbeatMs = reg?.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
    const channel = this.options.heartbeats;
    if (channel && reg) {
      channel.start(
        {
          nodeId: this.nodeId,
          incarnation: reg.incarnation,
          intervalMs: heartbeatMs,
          timeoutMs: this.lease.leaseMs,
        },
        {
          replied: (sentAt, reply) => this.heartbeatReplied(sentAt, reply),
          failed: (code) => this.heartbeatFailed(code),
        },
      );
      this.every(heartbeatMs, () => {
        this.checkLease();
        channel.alive();
      });
    } else {
      this.heartbeat();
      this.every(heartbeatMs, () => this.heartbeat());
    }
    this.every(this.options.reportIntervalMs ?? 2_000, () => this.report());
    this.every(this.options.reconcileIntervalMs ?? 10_000, async () => {
      await this.reconcile();
    });
    await this.reconcile();
  }

  /** Stops timers and subscriptions; waits for a role change in progress to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    await this.options.heartbeats?.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
    await this.queue.catch(() => undefined);
    if (this.started) this.log.info({ nodeId: this.nodeId }, 'node agent stopped');
  }

  onRoleChange(listener: RoleChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called once after a batch of role changes (one command, reconcile or event) has been applied
   * and every RoleChangeListener has run, before the command is answered: the place for work
   * worth doing once per batch rather than per partition.
   */
  onRolesApplied(listener: () => Promise<void> | void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /**
   * Called after each reconcile has applied consensus's answer, with that answer: every
   * partition consensus lists this node in (as leader, replica or ISR member) when it was asked.
   * A role command may have changed some since; the node's own table has the latest.
   */
  onReconciled(listener: ReconciledListener): () => void {
    this.reconciledListeners.add(listener);
    return () => this.reconciledListeners.delete(listener);
  }

  /** Where the replica report takes each partition's log end offset from. */
  providePositions(provider: PositionProvider): void {
    this.positionOf = provider;
  }

  currentRole(resource: string, partition: number): RoleView {
    const held = this.table.get(resource, partition);
    if (!held) return { role: 'NONE', epoch: null, assignment: null };
    return {
      role: held.assignment.role,
      epoch: held.epoch.toString(),
      assignment: held.assignment,
    };
  }

  /**
   * True while this node may act as the partition's leader (at `epoch`, when given): it holds the
   * LEADER role, its control-plane lease is fresh and confirmed, and no newer epoch has been seen
   * for the partition since the last reconcile. The app's guard for every put and get.
   */
  mayServe(resource: string, partition: number, epoch?: string | bigint): boolean {
    return (
      this.isLeader(resource, partition, epoch) &&
      this.lease.isHeld() &&
      !this.suspended.has(partitionKey(resource, partition))
    );
  }

  /** True while the control-plane lease is fresh and confirmed (see Lease). */
  get leaseHeld(): boolean {
    return this.lease.isHeld();
  }

  /** Milliseconds of lease left (≤ 0 when expired). */
  get leaseRemainingMs(): number {
    return this.lease.remainingMs();
  }

  /**
   * A peer showed a newer epoch for a partition this node leads (a follower's fetch answered
   * FENCED): stop serving it at once and ask consensus for the truth. The suspension ends when a
   * reconcile started after it has applied its roles. The claimed epoch is not persisted: peers
   * are not trusted to move fences, consensus is.
   */
  suspend(resource: string, partition: number, claimedEpoch: string): void {
    const key = partitionKey(resource, partition);
    if (!this.suspended.has(key)) {
      this.log.warn(
        { nodeId: this.nodeId, resource, partition, claimedEpoch },
        'a newer epoch was seen for a partition this node leads; stepping down until reconciled',
      );
    }
    this.suspended.set(key, this.reconcileRounds);
    this.requestReconcile();
  }

  /** Asks consensus for this node's roles soon (coalesced with a reconcile already pending). */
  requestReconcile(): void {
    this.reconcileWanted = true;
    if (this.reconcileLoop || this.abort.signal.aborted) return;
    this.reconcileLoop = (async () => {
      while (this.reconcileWanted && !this.abort.signal.aborted) {
        this.reconcileWanted = false;
        const started = this.clock();
        if (await this.reconcile()) {
          if (this.reconcileWanted) {
            const took = this.clock() - started;
            await sleep(Math.max(RECONCILE_MIN_GAP_MS, took), this.abort.signal);
          }
          continue;
        }
        // Failed: while something waits on a reconcile to serve again, do not leave it to the
        // periodic one.
        if (this.suspended.size > 0 || this.lease.awaitingReconcile) {
          this.reconcileWanted = true;
          await sleep(RECONCILE_RETRY_MS, this.abort.signal);
        }
      }
    })()
      .catch((error: unknown) =>
        this.log.error({ err: error, nodeId: this.nodeId }, 'reconcile failed'),
      )
      .finally(() => (this.reconcileLoop = null));
  }

  /**
   * Sends a replica report soon, e.g. when a follower caught up, so replication can expand the
   * ISR without waiting for the periodic one. Coalesced: at most one per REPORT_SPACING_MS. Naming
   * the partition sends only the partitions asked for (a node catching up thousands of followers
   * asked for a full report every 100 ms: megabytes a second that made replication a NATS slow
   * consumer); without one, the report is full.
   */
  requestReport(only?: { resource: string; partition: number }): void {
    if (!this.registration) return;
    if (only) this.reportWanted?.add(partitionKey(only.resource, only.partition));
    else this.reportWanted = null;
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    const wait = Math.max(0, this.lastReportAt + REPORT_SPACING_MS - this.clock());
    setTimeout(() => {
      this.reportScheduled = false;
      const wanted = this.reportWanted;
      this.reportWanted = new Set();
      if (!this.abort.signal.aborted) this.report(wanted ?? undefined);
    }, wait);
  }

  /** True while this node holds the LEADER role (at `epoch`, when given), lease aside. */
  isLeader(resource: string, partition: number, epoch?: string | bigint): boolean {
    const held = this.table.get(resource, partition);
    if (!held || held.assignment.role !== 'LEADER') return false;
    if (epoch === undefined) return true;
    try {
      return held.epoch === BigInt(epoch);
    } catch {
      return false; // not an epoch at all
    }
  }

  roles(): RoleAssignmentV1[] {
    return this.table.roles().map((h) => h.assignment);
  }

  /** Highest durable epoch for a partition (null if none), from the fencing record. */
  highestEpoch(resource: string, partition: number): bigint | null {
    return this.fences().highest(resource, partition);
  }

  private fences(): EpochStore {
    if (!this.epochs) throw new TesseraError('UNAVAILABLE', 'node agent is not open');
    return this.epochs;
  }

  private every(ms: number, fn: () => Promise<void> | void): void {
    this.timers.push(
      setInterval(() => {
        Promise.resolve()
          .then(fn)
          .catch((error: unknown) =>
            this.log.error({ err: error, nodeId: this.nodeId }, 'periodic task failed'),
          );
      }, ms),
    );
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- registration and heartbeats -------------------------------------------------------

  private async register(): Promise<void> {
    const { nodeId, zone, rack, capacity, tags } = this.options;
    const request: RegisterNodeRequestV1 = { nodeId, zone, rack, capacity, tags };
    for (let attempt = 1; !this.abort.signal.aborted; attempt++) {
      try {
        const reply = await this.options.network.request(
          'coordinator.node.register',
          Subjects.coordinator.registerNode,
          request,
          {
            timeoutMs: this.options.requestTimeoutMs ?? 2_000,
          },
        );
        this.registration = this.checkRegistration(reply);
        this.heartbeatSeq = 0;
        this.log.info(
          {
            nodeId,
            incarnation: this.registration.incarnation,
            heartbeatIntervalMs: this.registration.heartbeatIntervalMs,
          },
          'registered with the coordinator',
        );
        return;
      } catch (error) {
        const retryMs = this.options.registerRetryMs ?? 1_000;
        this.log.warn(
          { nodeId, attempt, code: errorCode(error), reason: (error as Error).message, retryMs },
          'registration failed; retrying',
        );
        await sleep(retryMs, this.abort.signal);
      }
    }
  }

  private checkRegistration(reply: RegisterNodeReplyV1): RegisterNodeReplyV1 {
    const ok =
      reply.nodeId === this.nodeId &&
      Number.isInteger(reply.heartbeatIntervalMs) &&
      reply.heartbeatIntervalMs >= 10 &&
      reply.heartbeatIntervalMs <= 60_000 &&
      Number.isInteger(reply.incarnation) &&
      reply.incarnation >= 0;
    if (!ok) throw new TesseraError('INVALID', 'malformed registration reply');
    return {
      nodeId: reply.nodeId,
      heartbeatIntervalMs: reply.heartbeatIntervalMs,
      incarnation: reply.incarnation,
    };
  }

  /**
   * Heartbeats are requests: health's `{ ok: true }` renews the leader lease, measured from when
   * this heartbeat was sent. Any other outcome (timeout, refusal, disconnected) renews nothing.
   */
  private heartbeat(): void {
    const reg = this.registration;
    if (!reg) return;
    this.checkLease();
    const beat: HeartbeatV1 = {
      nodeId: this.nodeId,
      incarnation: reg.incarnation,
      seq: this.heartbeatSeq++,
      sentAt: new Date().toISOString(),
    };
    const sentAt = this.clock();
    this.options.network
      .requestRaw(Subjects.health.heartbeat(this.nodeId), beat, {
        // A later reply could not extend the lease anyway.
        timeoutMs: this.lease.leaseMs,
      })
      .then(
        (reply) => this.heartbeatReplied(sentAt, reply),
        (error: unknown) => this.heartbeatFailed(errorCode(error)),
      );
  }

  /** Health answered a heartbeat sent at `sentAt`: only `{ ok: true }` renews the lease. */
  private heartbeatReplied(sentAt: number, reply: unknown): void {
    if (this.abort.signal.aborted) return;
    if (isErrorReply(reply) || (reply as { ok?: unknown } | null)?.ok !== true) {
      this.heartbeatFailed(isErrorReply(reply) ? reply.code : 'MALFORMED');
      return;
    }
    if (this.heartbeatFailing)
      this.log.info({ nodeId: this.nodeId }, 'heartbeats acknowledged again');
    this.heartbeatFailing = false;
    if (this.lease.acknowledged(sentAt, this.reconcileRounds)) this.requestReconcile();
  }

  private heartbeatFailed(code: string): void {
    if (!this.heartbeatFailing)
      this.log.warn(
        { nodeId: this.nodeId, code, leaseRemainingMs: Math.round(this.lease.remainingMs()) },
        'heartbeat not acknowledged',
      );
    this.heartbeatFailing = true;
  }

  /** Notices (and logs) a lapse even when no request asks. */
  private checkLease(): void {
    const lapses = this.lease.lapseCount;
    this.lease.isHeld();
    if (this.lease.lapseCount !== lapses) {
      const leading = this.table.roles().filter((h) => h.assignment.role === 'LEADER').length;
      this.log.warn(
        { nodeId: this.nodeId, leaseMs: this.lease.leaseMs, leading },
        'leader lease lapsed: refusing to serve as leader until heartbeats are acknowledged and roles reconciled',
      );
    }
  }

  /** Publishes this node's replica positions: all of them, or the partitions in `only`. */
  private report(only?: ReadonlySet<string>): void {
    this.lastReportAt = this.clock();
    // A full report answers every out-of-turn request waiting.
    if (!only) this.reportWanted = new Set();
    const held = this.table.roles().filter((h) => h.assignment.role !== 'NONE');
    const chosen = only
      ? held.filter((h) => only.has(partitionKey(h.assignment.resource, h.assignment.partition)))
      : held;
    if (only && chosen.length === 0) return;
    const replicas: ReplicaPositionV1[] = chosen.map((h) => {
      const { resource, partition, role } = h.assignment;
      const found = this.positionOf(resource, partition);
      const position = typeof found === 'number' ? { logEndOffset: found } : found;
      const row: ReplicaPositionV1 = {
        resource,
        partition,
        role,
        leaderEpoch: h.epoch.toString(),
        logEndOffset: position && position.logEndOffset >= 0 ? position.logEndOffset : 0,
      };
      if (role === 'LEADER' && position?.highWatermark !== undefined)
        row.highWatermark = position.highWatermark;
      return row;
    });
    const report: ReplicaReportV1 = { nodeId: this.nodeId, replicas };
    if (only) report.partial = true;
    this.publishQuietly(Subjects.replication.report(this.nodeId), report);
  }

  /** Core NATS publish: fails only while disconnected; log once per outage, not per message. */
  private publishQuietly(subject: string, payload: unknown): void {
    try {
      this.options.network.publish(subject, payload);
      if (this.publishFailing) this.log.info({ nodeId: this.nodeId }, 'publishing again');
      this.publishFailing = false;
    } catch (error) {
      if (!this.publishFailing)
        this.log.warn(
          { nodeId: this.nodeId, subject, code: errorCode(error) },
          'cannot publish; will keep trying',
        );
      this.publishFailing = true;
    }
  }

  // ---- role commands ---------------------------------------------------------------------

  private async onAssignMessage(msg: Msg): Promise<void> {
    let payload: unknown;
    try {
      payload = decodeJson(msg.data);
    } catch {
      this.log.warn(
        { nodeId: this.nodeId, subject: msg.subject },
        'refused a role command that is not JSON',
      );
      NetworkManager.respondError(msg, {
        ok: false,
        code: 'INVALID_JSON',
        message: 'payload is not valid JSON',
      });
      return;
    }
    // One command at a time, each after a turn of the event loop's timers: validating a command
    // holds the loop, and a burst of them (an election moves thousands of roles) must not hold
    // back the heartbeat timer for its whole length.
    const turn = this.commandTurn
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))
      .then(() => this.handleAssign(payload));
    this.commandTurn = turn.catch(() => undefined);
    NetworkManager.respond(msg, await turn);
  }

  /**
   * Applies an `AssignRolesCommandV1` payload and returns the wire reply. Invalid input changes
   * nothing: the whole command is refused before any fence moves.
   */
  async handleAssign(payload: unknown): Promise<OkReply<AssignRolesReplyV1> | ErrorReplyV1> {
    let command: AssignRolesCommandV1;
    try {
      command = parseAssignRoles(payload);
      if (command.nodeId !== this.nodeId) {
        throw new TesseraError(
          'FORBIDDEN',
          `command for node ${command.nodeId} sent to node ${this.nodeId}`,
        );
      }
      for (const a of command.assignments) checkConsistent(this.nodeId, a);
    } catch (error) {
      const reply = errorReply(error);
      this.log.warn(
        { nodeId: this.nodeId, code: reply.code, reason: reply.message },
        'refused a role command',
      );
      return reply;
    }
    try {
      const receivedAt = this.clock();
      let queuedMs = 0;
      const result = await this.serial(() => {
        queuedMs = this.clock() - receivedAt;
        return this.apply(command.assignments, 'command');
      });
      // A command queued behind a long reconcile is one consensus may have given up on.
      if (queuedMs >= SLOW_APPLY_MS)
        this.log.info(
          {
            nodeId: this.nodeId,
            roles: command.assignments.length,
            queuedMs: Math.round(queuedMs),
          },
          'role command waited behind other role changes',
        );
      return { ok: true, ...result };
    } catch (error) {
      this.log.error({ nodeId: this.nodeId, err: error }, 'could not apply a role command');
      return { ok: false, code: 'UNAVAILABLE', message: 'the node could not persist its epochs' };
    }
  }

  /** Asks consensus for the roles this node should hold and applies them (full set). */
  /** Returns true when consensus answered and its roles were applied. */
  async reconcile(): Promise<boolean> {
    if (this.abort.signal.aborted || !this.epochs) return false;
    const startedAt = this.table.sequence;
    const round = ++this.reconcileRounds;
    const assignments: RoleAssignmentV1[] = [];
    try {
      // In pages: thousands of roles in one reply would pass NATS's 1 MB payload limit.
      let after: PartitionCursorV1 | null = null;
      do {
        const reply = await this.options.network.request(
          'consensus.node.roles',
          Subjects.consensus.nodeRoles(this.nodeId),
          {
            nodeId: this.nodeId,
            limit: this.options.rolesPageSize ?? DEFAULT_ROLES_PAGE,
            ...after,
          },
          { timeoutMs: this.options.requestTimeoutMs ?? 2_000 },
        );
        // Replies are input too: validate them as a command to this node.
        const page = parseAssignRoles({
          nodeId: this.nodeId,
          assignments: reply.assignments,
        }).assignments;
        for (const a of page) checkConsistent(this.nodeId, a);
        assignments.push(...page);
        after = nextPage(reply.next, after);
      } while (after !== null);
    } catch (error) {
      this.log.warn(
        { nodeId: this.nodeId, code: errorCode(error), reason: (error as Error).message },
        'role reconcile failed; will retry',
      );
      return false;
    }
    await this.serial(async () => {
      const set = this.table.reconcileSet(assignments, startedAt);
      if (set.length > 0) await this.apply(set, 'reconcile');
    });
    this.reconciled(round);
    for (const listener of this.reconciledListeners) {
      try {
        await listener(assignments);
      } catch (error) {
        this.log.error({ nodeId: this.nodeId, err: error }, 'reconciled listener failed');
      }
    }
    return true;
  }

  /** A reconcile started as `round` has applied consensus's answer. */
  private reconciled(round: number): void {
    for (const [key, since] of this.suspended) {
      if (round > since) {
        this.suspended.delete(key);
        this.log.info(
          { nodeId: this.nodeId, partition: key },
          'partition reconciled; suspension lifted',
        );
      }
    }
    if (this.lease.reconciled(round)) {
      this.log.info(
        { nodeId: this.nodeId, lapses: this.lease.lapseCount },
        'leader lease confirmed by a heartbeat and a role reconcile',
      );
    }
  }

  /** A leader event naming someone else at a higher epoch steps this node down at once. */
  private async onLeaderEvent(msg: Msg): Promise<void> {
    let event: unknown;
    try {
      event = decodeJson(msg.data);
    } catch {
      return;
    }
    const e = event as {
      resource?: unknown;
      partition?: unknown;
      leader?: unknown;
      epoch?: unknown;
      isr?: unknown;
    };
    if (
      typeof e !== 'object' ||
      e === null ||
      !isToken(e.resource) ||
      !Number.isSafeInteger(e.partition) ||
      !(e.leader === null || isToken(e.leader)) ||
      !(
        Number.isSafeInteger(e.epoch) ||
        (typeof e.epoch === 'string' && /^[0-9]{1,19}$/.test(e.epoch))
      ) ||
      !Array.isArray(e.isr) ||
      e.isr.length > MAX_REPLICATION_FACTOR ||
      !e.isr.every(isToken)
    ) {
      return;
    }
    const resource = e.resource;
    const partition = e.partition as number;
    const epoch = BigInt(e.epoch as number | string);
    const leader = e.leader;
    const isr = e.isr as string[];
    await this.serial(async () => {
      const stepDown = this.table.stepDownFor(resource, partition, leader, epoch, isr);
      if (!stepDown) return;
      this.log.warn(
        { nodeId: this.nodeId, resource, partition, epoch: epoch.toString(), leader },
        'a newer leader was announced; stepping down',
      );
      await this.apply([stepDown], 'event');
    });
  }

  /** Decide → persist fences → change roles → notify. Runs inside `serial`. */
  private async apply(
    assignments: readonly RoleAssignmentV1[],
    source: 'command' | 'reconcile' | 'event',
  ): Promise<AssignRolesReplyV1> {
    const startedAt = this.clock();
    const fences = this.fences();
    const decisions = this.table.plan(assignments, (r, p) => fences.highest(r, p));
    const raises = decisions.flatMap((d) =>
      d.kind === 'apply'
        ? [{ resource: d.assignment.resource, partition: d.assignment.partition, epoch: d.epoch }]
        : [],
    );
    // The fence is durable before the role is acted upon: a crash after this point cannot
    // bring back an older command.
    await fences.raise(raises);
    const fencedAt = this.clock();
    this.table.commit(decisions);
    const rejected: AssignRolesReplyV1['rejected'] = [];
    // Listeners act on several partitions at once (each opens a log, drains it…): one at a time,
    // a node took over a minute to act on the 6,000 roles of a new 10,000-partition resource.
    // A sliding pool: the next starts as soon as any finishes (fixed windows waited for the
    // slowest of each). A partition's own changes stay in order: each waits for the last.
    const running = new Set<Promise<void>>();
    const lastOf = new Map<string, Promise<void>>();
    for (const [i, d] of decisions.entries()) {
      // Thousands of roles (a restart's reconcile) otherwise run as one long turn of the loop:
      // listeners resolve at once, so nothing else (timers, fetches) would run until the end.
      if (i > 0 && i % YIELD_EVERY_ROLES === 0) await new Promise((r) => setImmediate(r));
      const { resource, partition, leaderEpoch, role } = d.assignment;
      const context = {
        nodeId: this.nodeId,
        resource,
        partition,
        epoch: leaderEpoch,
        role,
        source,
      };
      if (d.kind === 'reject') {
        rejected.push({ resource, partition, highestEpoch: d.highestEpoch.toString() });
        // A reconcile reply racing a newer command is expected; a stale command is worth a warning.
        if (source === 'reconcile')
          this.log.debug(
            { ...context, highestEpoch: d.highestEpoch.toString() },
            'ignored an older role',
          );
        else
          this.log.warn(
            { ...context, highestEpoch: d.highestEpoch.toString() },
            'rejected a stale role assignment',
          );
      } else if (d.kind === 'apply') {
        while (running.size >= NOTIFY_PARALLEL) await Promise.race(running);
        const key = `${resource}/${partition}`;
        const before = lastOf.get(key);
        const task: Promise<void> = (before ? before.then(() => this.notify(d)) : this.notify(d))
          .catch((error: unknown) =>
            this.log.error({ ...context, err: error }, 'role change listener failed'),
          )
          .finally(() => running.delete(task));
        running.add(task);
        lastOf.set(key, task);
      }
    }
    await Promise.all(running);
    if (raises.length > 0 || decisions.some((d) => d.kind === 'apply')) {
      for (const listener of this.appliedListeners) {
        try {
          await listener();
        } catch (error) {
          this.log.error({ nodeId: this.nodeId, err: error }, 'roles-applied listener failed');
        }
      }
    }
    const applied = decisions.length - rejected.length;
    const ms = this.clock() - startedAt;
    // Slow set-ups are what keep a new resource from serving (and time out role commands).
    this.log[ms >= SLOW_APPLY_MS ? 'info' : 'debug'](
      {
        nodeId: this.nodeId,
        source,
        roles: applied,
        ms: Math.round(ms),
        fenceMs: Math.round(fencedAt - startedAt),
      },
      'roles applied',
    );
    return { accepted: applied, rejected };
  }

  private async notify(d: Extract<Decision, { kind: 'apply' }>): Promise<void> {
    const { resource, partition, leaderEpoch, role } = d.assignment;
    const previousRole = d.previous?.role ?? 'NONE';
    const context = {
      nodeId: this.nodeId,
      resource,
      partition,
      epoch: leaderEpoch,
      role,
      previousRole,
    };
    if (previousRole !== role || d.previous?.leaderEpoch !== leaderEpoch)
      this.log.info(context, 'role changed');
    for (const listener of this.listeners) {
      try {
        await listener(d.assignment, d.previous);
      } catch (error) {
        // The role stands (the guard `isLeader` is the truth); the app must cope.
        this.log.error({ ...context, err: error }, 'role change listener failed');
      }
    }
  }
}
