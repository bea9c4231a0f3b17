import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import {
  type MapResourceV1,
  type MapViewV1,
  type NodeViewV1,
  type PartitionViewV1,
} from '@tessera/contracts';
import { waitFor } from '@tessera/testing';
import {
  type ClusterOptions,
  type EventLog,
  type KvNodeSpec,
  type ObservedEvent,
  TestCluster,
} from '../cluster';
import {
  checkAll,
  checkConvergence,
  type ConvergenceSpec,
  convergedAt,
  type Violation,
} from './checkers';
import { type History, type PutOk } from './history';
import { KvWriter } from './kv-writer';
import { ControlPlaneRecorder } from './recorder';

/**
 * From a node's last heartbeat to DEAD, as fault scenarios assert it: the failover bench
 * measures ~1 s; the bound leaves room for a loaded CI machine.
 */
export const DETECTION_BOUND_MS = 3_000;

export interface WrittenFleetOptions {
  nodes: KvNodeSpec[];
  resource: string;
  partitions: number;
  replicationFactor?: number;
  /** Extra environment for every service and node (e.g. a short re-placement grace delay). */
  env?: Record<string, string>;
  /** A NATS server of the suite's own (see ClusterOptions). */
  natsUrl?: string;
  /** A Postgres server of the suite's own (see ClusterOptions). */
  postgresUrl?: string;
  /** One kv-node's own environment (see ClusterOptions). */
  nodeEnv?: (node: KvNodeSpec) => Record<string, string>;
  /** Instances of the leased services (see ClusterOptions). */
  instances?: ClusterOptions['instances'];
  /** One service instance's own environment (see ClusterOptions). */
  instanceEnv?: ClusterOptions['instanceEnv'];
}

/** A node SIGKILLed and the partitions it led failed over (`failover`). */
export interface Failover {
  victim: string;
  killedAt: number;
  /** The partitions it led, as they were before the kill. */
  moved: PartitionViewV1[];
  /** The resource once every one of them had another leader. */
  after: MapResourceV1;
  /** From the kill to the last of those partitions seen led elsewhere. */
  ms: number;
}

/** What `waitConverged` observed: the C6 spec to check, and how long convergence took. */
export interface Convergence {
  spec: ConvergenceSpec;
  /** From `spec.since` to the first fully converged map sample; null if none within the time. */
  ms: number | null;
}

/**
 * The fault scenarios' common ground: a fleet, its events and control-plane commands recorded
 * into the history, one resource fully in sync, and a writer putting unique values to every
 * partition (already acknowledged on each) before the fault starts.
 */
export class WrittenFleet {
  private constructor(
    readonly cluster: TestCluster,
    readonly events: EventLog,
    readonly recorder: ControlPlaneRecorder,
    readonly writer: KvWriter,
    readonly nc: NatsConnection,
    private readonly history: History,
    private readonly options: WrittenFleetOptions,
  ) {}

  static async start(
    prefix: string,
    history: History,
    options: WrittenFleetOptions,
  ): Promise<WrittenFleet> {
    const cluster = await TestCluster.start(prefix, {
      nodes: options.nodes,
      env: options.env,
      natsUrl: options.natsUrl,
      postgresUrl: options.postgresUrl,
      nodeEnv: options.nodeEnv,
      instances: options.instances,
      instanceEnv: options.instanceEnv,
    });
    let fleet: WrittenFleet | undefined;
    try {
      const events = await cluster.collectEvents();
      const { natsUrl, cluster: name } = cluster.env;
      const recorder = await ControlPlaneRecorder.start(natsUrl, name, history, events);
      const nc = await connect({ servers: natsUrl });
      const writer = new KvWriter(nc, name, history, {
        resource: options.resource,
        partitionCount: options.partitions,
        partitions: Array.from({ length: options.partitions }, (_, p) => p),
        prefix,
      });
      fleet = new WrittenFleet(cluster, events, recorder, writer, nc, history, options);
      await fleet.settle();
      return fleet;
    } catch (error) {
      // A fleet that never came up is stopped here: the suite has no fleet to close.
      const logs = cluster.logs();
      await (fleet ? fleet.close() : cluster.stop()).catch(() => undefined);
      throw new Error(`${String(error)}\n${logs}`);
    }
  }

  /** Every node ALIVE, the resource created and fully in sync, a write acknowledged on each partition. */
  private async settle(): Promise<void> {
    const { nodes: expected, resource, partitions } = this.options;
    const rf = this.options.replicationFactor ?? 3;
    await waitFor(
      'every node ALIVE',
      async () => {
        const nodes = (await this.cluster.api<NodeViewV1[]>('GET', '/nodes')).body;
        return nodes.length === expected.length && nodes.every((n) => n.state === 'ALIVE');
      },
      { timeoutMs: 30_000 },
    );
    const created = await this.cluster.api('POST', '/resources', {
      name: resource,
      partitions,
      replicationFactor: rf,
    });
    if (created.status !== 201) throw new Error(`resource not created: ${created.status}`);
    await waitFor(
      'every partition led, fully in sync',
      async () => {
        const r = await this.resource().catch(() => undefined);
        return (
          r &&
          r.partitions.length === partitions &&
          r.partitions.every((p) => p.leader !== null && p.isr.length === rf)
        );
      },
      { timeoutMs: 30_000 },
    );
    this.writer.start();
    await waitFor('a write acknowledged on every partition', () =>
      Array.from({ length: partitions }, (_, p) => p).every((p) => this.writer.acked(p) > 0),
    );
  }

  async map(): Promise<MapViewV1> {
    return (await this.cluster.api<MapViewV1>('GET', '/map')).body;
  }

  async resource(): Promise<MapResourceV1> {
    const found = (await this.map()).resources.find((r) => r.name === this.options.resource);
    if (!found) throw new Error(`no ${this.options.resource} in the map`);
    return found;
  }

  /** The node leading the most partitions now, how many it leads, and which. */
  async topLeader(): Promise<{ node: string; leads: number; moved: PartitionViewV1[] }> {
    const partitions = (await this.resource()).partitions;
    const led = new Map<string, number>();
    for (const p of partitions) if (p.leader) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    const [node, leads] = [...led].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    // The partitions it leads, as they are now: what a fault on it should move.
    return { node, leads, moved: partitions.filter((p) => p.leader === node) };
  }

  /** SIGKILLs a node, then waits until it is DEAD and every partition it led has another leader. */
  async failover(victim: string, timeoutMs = 15_000): Promise<Failover> {
    const moved = (await this.resource()).partitions.filter((p) => p.leader === victim);
    const killedAt = this.history.fault('SIGKILL', victim);
    await this.cluster.kill(victim);
    await waitFor(
      `${victim} DEAD`,
      () => this.events.nodeStates(victim, killedAt).some((e) => e.body['state'] === 'DEAD'),
      { timeoutMs },
    ).catch(this.withLogs);
    const after = await waitFor(
      `new leaders for the partitions ${victim} led`,
      async () => {
        const r = await this.resource();
        return moved.every((p) => ![null, victim].includes(r.partitions[p.partition].leader))
          ? r
          : undefined;
      },
      { timeoutMs },
    ).catch(this.withLogs);
    return { victim, killedAt, moved, after, ms: Date.now() - killedAt };
  }

  /** The first `events.node.state` of `nodeId` entering `state` since `since`, once it came. */
  nodeStateEvent(
    nodeId: string,
    state: string,
    since: number,
    timeoutMs = 10_000,
  ): Promise<ObservedEvent> {
    return waitFor(
      `${nodeId} ${state}`,
      () => this.events.nodeStates(nodeId, since).find((e) => e.body['state'] === state),
      { timeoutMs, intervalMs: 20 },
    ).catch(this.withLogs);
  }

  /**
   * The first `events.partition.leader` since `since` naming another leader than `from`, at a
   * higher epoch, for each of the partitions `moved` (as they were); once all of them came.
   */
  newLeaderEvents(
    moved: readonly PartitionViewV1[],
    from: string,
    since: number,
    timeoutMs = 10_000,
  ): Promise<ObservedEvent[]> {
    return waitFor(
      `new-leader events for every partition ${from} led`,
      () => {
        const events = this.events.leaderEvents(this.options.resource, since);
        const firsts = moved.map((p) =>
          events.find(
            (e) =>
              e.body['partition'] === p.partition &&
              e.body['leader'] !== from &&
              e.body['leader'] !== null &&
              Number(e.body['epoch']) > p.epoch,
          ),
        );
        return firsts.every((e) => e !== undefined) ? (firsts as ObservedEvent[]) : undefined;
      },
      { timeoutMs, intervalMs: 20 },
    ).catch(this.withLogs);
  }

  /**
   * After a fault on `nodeId` at `since` that should cost it its leaderships (RELIABILITY
   * S4/S7/S9): it is DEAD within `deadWithinMs`, every partition of `moved` has a new leader at
   * the next epoch within 1 s of DEAD, and those new leaders acknowledge writes.
   */
  async failsOver(
    nodeId: string,
    moved: readonly PartitionViewV1[],
    since: number,
    deadWithinMs: number,
  ): Promise<{ dead: ObservedEvent; grants: ObservedEvent[] }> {
    const dead = await this.nodeStateEvent(nodeId, 'DEAD', since, deadWithinMs + 5_000);
    expect(dead.at - since).toBeLessThanOrEqual(deadWithinMs);
    const grants = await this.newLeaderEvents(moved, nodeId, since);
    for (const [i, grant] of grants.entries()) {
      expect(Number(grant.body['epoch'])).toBe(moved[i].epoch + 1);
      expect(grant.at - dead.at).toBeLessThanOrEqual(1_000);
    }
    const failedOverAt = Date.now();
    await waitFor('writes acknowledged by the new leaders', () =>
      moved.every((p) => this.writer.acked(p.partition, failedOverAt) > 0),
    ).catch(this.withLogs);
    return { dead, grants };
  }

  /** Waits until `nodeId` reports itself, since `since`, no leader at a newer epoch of each of `moved`. */
  async steppedDown(
    nodeId: string,
    moved: readonly PartitionViewV1[],
    since: number,
    timeoutMs = 20_000,
  ): Promise<void> {
    await waitFor(
      `${nodeId} to report itself a follower at the new epochs`,
      () => {
        const report = this.recorder.report(nodeId, since);
        return (
          report !== undefined &&
          moved.every((p) =>
            report.some(
              (r) =>
                r.resource === this.options.resource &&
                r.partition === p.partition &&
                r.role !== 'LEADER' &&
                BigInt(r.leaderEpoch) > BigInt(p.epoch),
            ),
          )
        );
      },
      { timeoutMs },
    ).catch(this.withLogs);
  }

  /** Acknowledgements received at or after `since` carrying the epoch one of `moved` had. */
  staleAcks(moved: readonly PartitionViewV1[], since: number): PutOk[] {
    const invokes = new Map(this.history.of('invoke').map((i) => [i.id, i]));
    const oldEpoch = new Map(moved.map((p) => [p.partition, p.epoch]));
    return this.history
      .of('ok')
      .filter(
        (o) => o.t >= since && oldEpoch.get(invokes.get(o.id)?.partition ?? -1) === Number(o.epoch),
      );
  }

  /** Restarts a killed node with its id and data directory; resolves once it is ALIVE again. */
  async restart(nodeId: string, timeoutMs = 20_000): Promise<number> {
    const restartedAt = this.history.fault('restart', nodeId);
    this.cluster.restartNode(nodeId);
    await waitFor(
      `${nodeId} ALIVE again`,
      () => this.events.nodeStates(nodeId, restartedAt).some((e) => e.body['state'] === 'ALIVE'),
      { timeoutMs },
    ).catch(this.withLogs);
    return restartedAt;
  }

  /** Polls the map into the history (for C6); returns the resource as seen. */
  async sample(): Promise<MapResourceV1> {
    const r = await this.resource();
    this.history.add({
      type: 'map',
      t: Date.now(),
      resource: r.name,
      partitions: r.partitions.map(({ partition, leader, epoch, isr, replicas }) => ({
        partition,
        leader,
        epoch,
        isr,
        replicas,
      })),
    });
    return r;
  }

  /**
   * Samples the map until every partition is led with its full replication factor in sync (on
   * none of `excluded`), or `timeoutMs` after `since` (default now). Does not throw: C6 (see
   * `check`) judges the samples, and names what was still short.
   */
  async waitConverged(
    timeoutMs: number,
    options: { since?: number; excluded?: readonly string[] } = {},
  ): Promise<Convergence> {
    const spec: ConvergenceSpec = {
      resource: this.options.resource,
      since: options.since ?? Date.now(),
      withinMs: timeoutMs,
      replicationFactor: this.options.replicationFactor ?? 3,
      excluded: options.excluded ?? [],
    };
    for (;;) {
      await this.sample().catch(() => undefined); // a coordinator hiccup: the next sample counts
      const at = convergedAt(this.history.entries, spec);
      if (at !== null) return { spec, ms: at - spec.since };
      if (Date.now() > spec.since + timeoutMs) return { spec, ms: null };
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Ends the run: stops the writer, reads every written key back from the current leaders, and
   * runs C1–C5 over the history, and C6 for each convergence given. Saves the history.
   */
  async check(
    convergence: readonly ConvergenceSpec[] = [],
  ): Promise<{ violations: Violation[]; file: string }> {
    await this.writer.stop();
    this.history.fault('heal', 'all');
    await this.writer.readBack().catch(this.withLogs);
    const violations = [
      ...checkAll(this.history.entries),
      ...convergence.flatMap((c) => checkConvergence(this.history.entries, c)),
    ];
    const file = this.history.save();
    // Beside the history: what each process said (TESSERA_TEST_SAVE_LOGS=1 keeps them on success too).
    if (violations.length > 0 || process.env['TESSERA_TEST_SAVE_LOGS'])
      this.saveLogs(file.replace(/\.jsonl$/, '.logs'));
    return { violations, file };
  }

  /**
   * `check`, asserting that nothing was violated (the first 20 violations and the history file
   * are in the failure message).
   */
  async expectClean(convergence: readonly ConvergenceSpec[] = []): Promise<void> {
    const { violations, file } = await this.check(convergence);
    expect({ violations: violations.slice(0, 20), history: file }).toEqual({
      violations: [],
      history: file,
    });
  }

  private saveLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const procs = [
      ...[...this.cluster.instances.values()].map((i) => i.proc),
      ...this.cluster.nodes.values(),
    ];
    for (const p of procs) writeFileSync(join(dir, `${p.name}.log`), p.output());
  }

  /** Rethrows with every process's recent log, for a failing wait. */
  readonly withLogs = (error: unknown): never => {
    throw new Error(`${String(error)}\n${this.cluster.logs()}`);
  };

  async close(): Promise<void> {
    this.writer.close();
    await this.recorder.close();
    await this.nc.close();
    if (this.history.entries.length > 0) this.history.save();
    await this.cluster.stop();
  }
}
