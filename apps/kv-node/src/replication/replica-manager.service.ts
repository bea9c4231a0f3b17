import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import {
  type ErrorCode,
  type ErrorReplyV1,
  type OkReply,
  type ReplicaFetchPartitionReplyV1,
  type ReplicaFetchPartitionV1,
  type ReplicaFetchReplyV1,
  ReplicaFetchRequestV1,
  type RoleAssignmentV1,
  Subjects,
  TesseraError,
  parseFetchBatchRequest,
  validateContract,
} from '@tessera/contracts';
import { NetworkManager, decodeJson } from '@tessera/messaging';
import { type ReplicaPosition, partitionKey } from '@tessera/node-agent';
import { type Msg } from 'nats';
import { PinoLogger } from 'nestjs-pino';
import { performance } from 'node:perf_hooks';
import { NodeAgentService } from '../agent/node-agent.service';
import { KV_CONFIG, KvNodeConfig } from '../config/kv-config';
import { StoreRegistry } from '../storage/store-registry.service';
import { CatchUpThrottle } from './catch-up-throttle';
import { FetchSession } from './fetch-session';
import { FollowerPartition } from './follower-partition';
import { LeaderReplica } from './leader-replica';

/** A single-partition fetch with nothing new is held this long (the brief's ~200 ms). */
export const LONG_POLL_MS = 200;
/**
 * Followers' batched fetches may be held this long (Kafka's replica.fetch.wait.max.ms is 500 ms).
 * An append answers a held fetch at once, so this costs no latency; it sets how often an idle
 * session asks. At 10,000 partitions, 500 ms kept each node's loop ~15% busy with nothing to copy.
 */
const SESSION_MAX_WAIT_MS = 2_000;
/** Follower's fetch deadline: the long-poll plus slack. */
const FETCH_TIMEOUT_MS = SESSION_MAX_WAIT_MS + 1_500;
const FETCH_RETRY_MS = 100;
const FETCH_MAX_RECORDS = 1_000;
/** Byte budget of one fetch answer, all partitions together: well under NATS's 1 MB. */
const FETCH_MAX_BYTES = 512 * 1024;
const MAX_PARTITIONS_PER_FETCH = 1_000;
/** Fetch sessions per leader: partitions are spread over them by hash, keeping requests small. */
const SESSIONS_PER_LEADER = 4;
const SUPERSEDE_DELAY_MS = 20;
/**
 * A caught-up replica outside the ISR counts toward acks this long after its last caught-up
 * fetch: longer than a session's long-poll, so a live one never drops out between fetches.
 */
const CATCH_UP_GRACE_MS = SESSION_MAX_WAIT_MS + 2_000;
const TICK_MS = 100;

function laneOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SESSIONS_PER_LEADER;
}

/** Approximate JSON size of records (UTF-8), to keep a batched answer under the byte budget. */
function sizeOf(records: readonly { key: string; value: string }[]): number {
  let bytes = 0;
  for (const r of records) bytes += Buffer.byteLength(r.key) + Buffer.byteLength(r.value) + 64;
  return bytes;
}

/** Why a fetch of one partition is refused. */
interface Refusal {
  code: ErrorCode;
  message: string;
  /**
   * This node is about to lead the partition (its role is on the way, or being set up): not news
   * that ends a long poll. The poll waits for the set-up instead, and fetches then.
   */
  pending?: true;
}

/** One partition of a fetch, checked: its leader state, or the answer already known. */
interface PreparedFetch {
  p: ReplicaFetchPartitionV1;
  leader: LeaderReplica | null;
  answer: ReplicaFetchPartitionReplyV1 | null;
  pending: boolean;
}

interface FetchBatch {
  followerId: string;
  partitions: ReplicaFetchPartitionV1[];
  maxRecords: number;
  maxWaitMs: number;
}

/**
 * Pull-based replication (Kafka-style) for every partition this node holds. As leader
 * (LeaderReplica) it serves fetches on `node.<self>.replica.fetch`, tracks follower positions and
 * acknowledges puts once the ISR has them. As follower (FollowerPartition) it is fetched for by a
 * FetchSession per leader, which batches all its partitions there into one long-poll. Role
 * changes arrive through `apply`, called by KvLeaderService in order with its own subscription
 * changes.
 */
@Injectable()
export class ReplicaManager implements OnModuleInit, BeforeApplicationShutdown {
  private readonly leaders = new Map<string, LeaderReplica>();
  /** Long polls waiting for this node's leader state of a partition to be set up, by key. */
  private readonly setUpWaiters = new Map<string, Set<() => void>>();
  private readonly followers = new Map<
    string,
    { partition: FollowerPartition; session: FetchSession }
  >();
  private readonly sessions = new Map<string, FetchSession>();
  private fetchSubscription: { unsubscribe(): void } | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private readonly clock = () => performance.now();
  /** One budget for every leader this node copies from. */
  private readonly throttle: CatchUpThrottle;

  constructor(
    private readonly agent: NodeAgentService,
    private readonly network: NetworkManager,
    private readonly stores: StoreRegistry,
    @Inject(KV_CONFIG) private readonly config: KvNodeConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(ReplicaManager.name);
    this.throttle = new CatchUpThrottle(config.catchUpBytesPerSec, this.clock());
  }

  onModuleInit(): void {
    this.agent.node.providePositions((resource, partition) => this.position(resource, partition));
    this.fetchSubscription = this.network.subscribe(
      Subjects.replica.fetch(this.config.nodeId),
      (msg) => this.onFetch(msg),
    );
    this.ticker = setInterval(() => {
      for (const leader of this.leaders.values()) leader.tick();
    }, TICK_MS);
  }

  /** The leader state for a partition at `epoch`, if this node has it. */
  leaderFor(resource: string, partition: number, epoch: string): LeaderReplica | undefined {
    const leader = this.leaders.get(partitionKey(resource, partition));
    return leader && leader.epochText === epoch ? leader : undefined;
  }

  /** Durable position for replica reports; leaders add their high watermark. */
  position(resource: string, partition: number): ReplicaPosition | undefined {
    const logEndOffset = this.stores.position(resource, partition);
    if (logEndOffset === undefined) return undefined;
    const leader = this.leaders.get(partitionKey(resource, partition));
    return leader ? { logEndOffset, highWatermark: leader.highWatermark } : { logEndOffset };
  }

  /** Follows one role change (already durable in the node agent). */
  async apply(a: RoleAssignmentV1): Promise<void> {
    const key = partitionKey(a.resource, a.partition);
    const epoch = BigInt(a.leaderEpoch);
    const context = {
      nodeId: this.config.nodeId,
      resource: a.resource,
      partition: a.partition,
      epoch: a.leaderEpoch,
    };
    if (a.role === 'LEADER') {
      // No fetched record may land after the new epoch has taken the log end as its start.
      await this.stopFollowing(key);
      const current = this.leaders.get(key);
      if (current && current.epoch === epoch) {
        current.update(a);
        return;
      }
      current?.close();
      const store = await this.stores.get(a.resource, a.partition, a.createdEpoch);
      await store.drain();
      const leader = new LeaderReplica(store, a, {
        nodeId: this.config.nodeId,
        minIsr: this.config.minIsr,
        ackTimeoutMs: this.config.ackTimeoutMs,
        catchUpGraceMs: CATCH_UP_GRACE_MS,
        clock: this.clock,
        stillServing: () => this.agent.node.mayServe(a.resource, a.partition, a.leaderEpoch),
      });
      this.leaders.set(key, leader);
      for (const wake of this.setUpWaiters.get(key) ?? []) wake();
      this.logger.debug(
        { ...context, epochStart: leader.epochStart, isr: a.isr },
        'leading: followers fetch from here',
      );
      return;
    }
    const leader = this.leaders.get(key);
    if (leader) {
      this.leaders.delete(key);
      leader.close();
    }
    if (a.role !== 'FOLLOWER' || !a.leader || a.leader === this.config.nodeId) {
      await this.stopFollowing(key);
      // Consensus took the replica off this node (it is in neither the replicas nor the ISR):
      // its log goes. A leaderless FOLLOWER keeps it to catch up later, and so does a NONE that
      // still lists the node in the ISR: a leader could yet be chosen from there.
      const { nodeId } = this.config;
      if (a.role === 'NONE' && !a.replicas.includes(nodeId) && !a.isr.includes(nodeId))
        await this.stores.remove(a.resource, a.partition);
      return;
    }
    const current = this.followers.get(key);
    if (current && current.partition.epoch === epoch && current.partition.leaderId === a.leader) {
      current.partition.update(a);
      return;
    }
    await this.stopFollowing(key);
    const partition = new FollowerPartition(a, {
      nodeId: this.config.nodeId,
      onStaleRole: () => this.agent.node.requestReconcile(),
      onCaughtUp: () =>
        this.agent.node.requestReport({ resource: a.resource, partition: a.partition }),
      logger: this.logger,
      retryMs: FETCH_RETRY_MS,
      now: this.clock,
    });
    const session = this.sessionFor(a.leader, key);
    this.followers.set(key, { partition, session });
    session.add(partition);
    // Opening (replaying or creating) the log does not hold up the role command.
    this.stores.get(a.resource, a.partition, a.createdEpoch).then(
      (store) => {
        partition.attach(store);
        session.notify();
        this.logger.debug(
          { ...context, leader: a.leader, logEndOffset: store.logEndOffset },
          'following',
        );
      },
      (error: unknown) =>
        this.logger.error({ ...context, err: error }, 'cannot open the partition log to follow'),
    );
  }

  private sessionFor(leaderId: string, key: string): FetchSession {
    const id = `${leaderId}#${laneOf(key)}`;
    let session = this.sessions.get(id);
    if (!session) {
      session = new FetchSession({
        nodeId: this.config.nodeId,
        leaderId,
        request: (subject, payload, timeoutMs) =>
          this.network.requestRaw(subject, payload, { timeoutMs }),
        logger: this.logger,
        maxRecords: FETCH_MAX_RECORDS,
        maxWaitMs: SESSION_MAX_WAIT_MS,
        fetchTimeoutMs: FETCH_TIMEOUT_MS,
        retryMs: FETCH_RETRY_MS,
        maxPartitionsPerRequest: MAX_PARTITIONS_PER_FETCH,
        supersedeDelayMs: SUPERSEDE_DELAY_MS,
        now: this.clock,
        throttle: this.throttle,
      });
      this.sessions.set(id, session);
    }
    return session;
  }

  /** Stops following a partition; waits for an append or truncation of it in progress. */
  private async stopFollowing(key: string): Promise<void> {
    const follower = this.followers.get(key);
    if (!follower) return;
    this.followers.delete(key);
    const { session } = follower;
    await session.remove(key);
    if (session.size === 0) {
      for (const [id, s] of this.sessions) if (s === session) this.sessions.delete(id);
      await session.stop();
    }
  }

  private async onFetch(msg: Msg): Promise<void> {
    let payload: unknown;
    try {
      payload = decodeJson(msg.data);
    } catch {
      NetworkManager.respondError(msg, {
        ok: false,
        code: 'INVALID_JSON',
        message: 'payload is not valid JSON',
      });
      return;
    }
    NetworkManager.respond(msg, await this.handleFetch(payload));
  }

  /**
   * A fetch: batched (`{ followerId, partitions: [...] }`, what followers send) or for one
   * partition (`{ resource, partition, followerId, ... }`). Invalid input changes nothing.
   */
  async handleFetch(
    payload: unknown,
  ): Promise<
    | OkReply<ReplicaFetchReplyV1>
    | OkReply<{ partitions: ReplicaFetchPartitionReplyV1[] }>
    | ErrorReplyV1
  > {
    try {
      if (typeof payload === 'object' && payload !== null && 'partitions' in payload) {
        const batch = parseFetchBatchRequest(payload);
        const partitions = await this.fetchBatch({
          followerId: batch.followerId,
          partitions: batch.partitions,
          maxRecords: batch.maxRecords,
          maxWaitMs: Math.min(batch.maxWaitMs ?? LONG_POLL_MS, SESSION_MAX_WAIT_MS * 4),
        });
        return { ok: true, partitions };
      }
      const single = validateContract(ReplicaFetchRequestV1, payload);
      const { followerId, maxRecords, ...position } = single;
      const [answer] = await this.fetchBatch({
        followerId,
        partitions: [position],
        maxRecords,
        maxWaitMs: LONG_POLL_MS,
      });
      if (!answer.ok)
        return { ok: false, code: answer.code ?? 'INTERNAL', message: answer.message ?? 'refused' };
      const { leaderEpoch, highWatermark, logEndOffset, records, truncateTo, divergingEpoch } =
        answer;
      const reply: ReplicaFetchReplyV1 = {
        leaderEpoch: leaderEpoch ?? '0',
        highWatermark: highWatermark ?? 0,
        logEndOffset: logEndOffset ?? 0,
        records: records ?? [],
      };
      if (truncateTo !== undefined) {
        reply.truncateTo = truncateTo;
        reply.divergingEpoch = divergingEpoch ?? null;
      }
      return { ok: true, ...reply };
    } catch (error) {
      if (error instanceof TesseraError) {
        this.logger.warn(
          { nodeId: this.config.nodeId, code: error.code, reason: error.message },
          'refused a fetch',
        );
        return error.toReply();
      }
      this.logger.error({ nodeId: this.config.nodeId, err: error }, 'serving a fetch failed');
      return { ok: false, code: 'UNAVAILABLE', message: 'the leader could not serve the fetch' };
    }
  }

  /**
   * Every partition is checked and its position recorded at once; the answer is sent as soon as
   * any of them has news (records, a divergence, a refusal), else after `maxWaitMs`.
   */
  private async fetchBatch(batch: FetchBatch): Promise<ReplicaFetchPartitionReplyV1[]> {
    let entries = batch.partitions.map((p) => this.prepareFetch(batch.followerId, p));
    const news = entries.some(
      (e) => (e.answer !== null && !e.pending) || e.leader?.hasNews(e.p.fetchOffset),
    );
    if (!news && batch.maxWaitMs > 0) {
      await this.waitForNews(
        entries.flatMap((e) => (e.leader ? [e.leader] : [])),
        entries.flatMap((e) => (e.pending ? [partitionKey(e.p.resource, e.p.partition)] : [])),
        batch.maxWaitMs,
      );
      // Partitions whose leadership was set up meanwhile are served now.
      entries = entries.map((e) => (e.pending ? this.prepareFetch(batch.followerId, e.p) : e));
    }
    let budget = FETCH_MAX_BYTES;
    const answers: ReplicaFetchPartitionReplyV1[] = [];
    for (const e of entries) {
      if (e.answer !== null || e.leader === null) {
        answers.push(
          e.answer ?? {
            resource: e.p.resource,
            partition: e.p.partition,
            ok: false,
            code: 'INTERNAL',
          },
        );
        continue;
      }
      const reply = await e.leader.readFrom(e.p.fetchOffset, batch.maxRecords, budget);
      budget -= sizeOf(reply.records);
      answers.push({ resource: e.p.resource, partition: e.p.partition, ok: true, ...reply });
    }
    return answers;
  }

  /**
   * One partition of a fetch: the epoch checks, then the follower's position recorded. A refusal
   * is the answer, except that a pending one (see Refusal) is news only once the wait is over.
   */
  private prepareFetch(followerId: string, p: ReplicaFetchPartitionV1): PreparedFetch {
    const where = { resource: p.resource, partition: p.partition };
    try {
      const checked = this.checkFetch(p);
      if (!(checked instanceof LeaderReplica)) {
        const answer: ReplicaFetchPartitionReplyV1 = {
          ...where,
          ok: false,
          code: checked.code,
          message: checked.message,
        };
        return { p, leader: null, answer, pending: checked.pending === true };
      }
      const divergence = checked.beginFetch({
        followerId,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch:
          p.lastFetchedEpoch === undefined || p.lastFetchedEpoch === null
            ? null
            : BigInt(p.lastFetchedEpoch),
      });
      return {
        p,
        leader: checked,
        answer: divergence ? { ...where, ok: true, ...divergence } : null,
        pending: false,
      };
    } catch (error) {
      const refusal =
        error instanceof TesseraError
          ? error
          : new TesseraError('UNAVAILABLE', 'the leader could not serve the fetch');
      if (!(error instanceof TesseraError))
        this.logger.error(
          { nodeId: this.config.nodeId, ...where, err: error },
          'serving a fetch failed',
        );
      const answer: ReplicaFetchPartitionReplyV1 = {
        ...where,
        ok: false,
        code: refusal.code,
        message: refusal.message,
      };
      return { p, leader: null, answer, pending: false };
    }
  }

  /**
   * Resolves at the first append to any of the `leaders`, when this node's leader state for any
   * of the `settingUp` partitions is in place, or after `ms`.
   */
  private waitForNews(leaders: LeaderReplica[], settingUp: string[], ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancels: (() => void)[] = [];
      const done = () => {
        clearTimeout(timer);
        for (const cancel of cancels) cancel();
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const leader of leaders) cancels.push(leader.onNextAppend(done));
      for (const key of settingUp) {
        let waiters = this.setUpWaiters.get(key);
        if (!waiters) this.setUpWaiters.set(key, (waiters = new Set()));
        waiters.add(done);
        cancels.push(() => {
          waiters.delete(done);
          if (waiters.size === 0) this.setUpWaiters.delete(key);
        });
      }
    });
  }

  /**
   * The epoch checks of a fetch: this node's leader state for the partition, or why not. A
   * refusal is a value, not a thrown error: during a failover or a new resource's set-up every
   * follower is refused, for thousands of partitions a second, and each thrown error captured a
   * stack (8% of a busy kv-node's CPU, profiled).
   */
  private checkFetch(p: ReplicaFetchPartitionV1): LeaderReplica | Refusal {
    if (p.fetchOffset > 0 && (p.lastFetchedEpoch ?? null) === null)
      return { code: 'INVALID', message: 'lastFetchedEpoch is required when fetchOffset > 0' };
    const { resource, partition } = p;
    const view = this.agent.node.currentRole(resource, partition);
    const theirs = BigInt(p.leaderEpoch);
    const ours = view.epoch === null ? null : BigInt(view.epoch);
    if (view.role !== 'LEADER' || ours === null) {
      const late = ours === null || theirs > ours;
      // Perhaps our own LEADER command is late, or was lost: ask.
      if (late) this.agent.node.requestReconcile();
      return {
        code: 'NOT_LEADER',
        message: `${this.config.nodeId} does not lead ${resource}/${partition} at epoch ${p.leaderEpoch}`,
        ...(late ? { pending: true as const } : {}),
      };
    }
    if (theirs < ours)
      return {
        code: 'STALE_EPOCH',
        message: `the leader epoch is ${view.epoch}, not ${p.leaderEpoch}`,
      };
    if (theirs > ours) {
      // Someone was granted a newer epoch than ours: we are the stale one. Step down at once.
      this.agent.node.suspend(resource, partition, p.leaderEpoch);
      return {
        code: 'FENCED',
        message: `${this.config.nodeId} leads ${resource}/${partition} at epoch ${view.epoch} only; stepping down`,
      };
    }
    return (
      this.leaderFor(resource, partition, p.leaderEpoch) ?? {
        code: 'NOT_LEADER',
        message: `${resource}/${partition}: leadership is being set up`,
        pending: true,
      }
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.fetchSubscription?.unsubscribe();
    this.fetchSubscription = null;
    for (const leader of this.leaders.values()) leader.close();
    this.leaders.clear();
    await Promise.all([...this.sessions.values()].map((s) => s.stop()));
    this.sessions.clear();
    this.followers.clear();
  }
}
