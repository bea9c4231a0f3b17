import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';
import {
  type AppProcess,
  createTestEnv,
  freePort,
  startApp,
  stopAll,
  type TestEnv,
  waitFor,
} from '@tessera/testing';
import { type BlockedLoop, blockEventLoop } from './faults/event-loop-block';

export const SERVICES = ['coordinator', 'health', 'consensus', 'replication', 'recovery'] as const;
export type Service = (typeof SERVICES)[number];

/** Services whose singleton work is guarded by a lease: they may run a standby. */
export const LEASED_SERVICES = ['coordinator', 'recovery'] as const;
export type LeasedService = (typeof LEASED_SERVICES)[number];

export interface KvNodeSpec {
  id: string;
  zone: string;
  rack: string;
}

export interface ClusterOptions {
  nodes?: KvNodeSpec[];
  adminToken?: string;
  /** How many instances of the coordinator and of recovery (default 1 each; 2 = active + standby). */
  instances?: Partial<Record<LeasedService, number>>;
  /** Extra environment for every service and node process (e.g. detector settings). */
  env?: Record<string, string>;
  /**
   * Starts a data node in place of `dist/apps/kv-node` (e.g. a lighter participant for a
   * control-plane benchmark); gets the node's full environment.
   */
  nodeLauncher?: (node: KvNodeSpec, env: Record<string, string>) => AppProcess;
  /** A NATS server of the suite's own (e.g. one it kills), instead of the shared one. */
  natsUrl?: string;
  /** Environment of one kv-node's own on top of the cluster's (e.g. its NATS through a proxy). */
  nodeEnv?: (node: KvNodeSpec) => Record<string, string>;
  /** A Postgres server of the suite's own (e.g. one it restarts), instead of the shared one. */
  postgresUrl?: string;
  /**
   * Environment of one service instance's own, by instance id (e.g. a skewed clock); gets the
   * database URL the instance would use (e.g. to route it through a proxy).
   */
  instanceEnv?: (id: string, databaseUrl: string) => Record<string, string>;
}

/** One process of a service: its own TESSERA_INSTANCE_ID and HTTP port. */
export interface ServiceInstance {
  service: Service;
  /** TESSERA_INSTANCE_ID, e.g. `coordinator-a`; also its Postgres application_name (`tessera-<id>`). */
  id: string;
  port: number;
  proc: AppProcess;
  /** Set while the process is stopped with SIGSTOP (by `pause`). */
  paused: boolean;
}

/** What `GET /api/v1/controller` (coordinator) and `GET /api/v1/recovery` answer. */
export interface LeaseStatus {
  instance: string;
  active: boolean;
  term: string | null;
}

export interface ObservedEvent {
  subject: string;
  /** Subject relative to the cluster: `events.partition.leader`, … */
  relative: string;
  body: Record<string, unknown>;
  /** Local receive time (Date.now()). */
  at: number;
}

/**
 * Every event published on `tessera.v1.<cluster>.events.>` from the moment it is created, as
 * received (duplicates from at-least-once relays included).
 */
export class EventLog {
  readonly events: ObservedEvent[] = [];
  private readonly listeners = new Set<(e: ObservedEvent) => void>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
  ) {}

  static async open(natsUrl: string, cluster: string): Promise<EventLog> {
    const nc = await connect({ servers: natsUrl });
    const prefix = `tessera.v1.${cluster}.`;
    const dec = new TextDecoder();
    let log: EventLog | null = null;
    const pending: ObservedEvent[] = [];
    const sub = nc.subscribe(`${prefix}events.>`, {
      callback: (_err, msg) => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(dec.decode(msg.data)) as Record<string, unknown>;
        } catch {
          return;
        }
        const e: ObservedEvent = {
          subject: msg.subject,
          relative: msg.subject.slice(prefix.length),
          body,
          at: Date.now(),
        };
        if (log) log.push(e);
        else pending.push(e);
      },
    });
    await nc.flush(); // the subscription is known to the server before anything else happens
    log = new EventLog(nc, sub);
    for (const e of pending) log.push(e);
    return log;
  }

  private push(e: ObservedEvent): void {
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  /** Calls `listener` for every event received from now on. */
  onEvent(listener: (e: ObservedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events of one relative subject (e.g. `events.partition.leader`), optionally since a time. */
  of(relative: string, since = 0): ObservedEvent[] {
    return this.events.filter((e) => e.relative === relative && e.at >= since);
  }

  nodeStates(nodeId: string, since = 0): ObservedEvent[] {
    return this.of('events.node.state', since).filter((e) => e.body['nodeId'] === nodeId);
  }

  leaderEvents(resource?: string, since = 0): ObservedEvent[] {
    return this.of('events.partition.leader', since).filter(
      (e) => resource === undefined || e.body['resource'] === resource,
    );
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.close();
  }
}

/** A whole Tessera fleet as real processes, on free ports, in its own database and cluster. */
export class TestCluster {
  /** Clusters started and not yet stopped (for a harness's signal handler: stopRunning). */
  private static readonly running = new Set<TestCluster>();
  /** The first instance of each service (kept for callers that run one of each). */
  readonly services = new Map<Service, AppProcess>();
  readonly nodes = new Map<string, AppProcess>();
  /** The first instance's port of each service. */
  readonly ports = new Map<Service, number>();
  /** Every service process, by instance id. */
  readonly instances = new Map<string, ServiceInstance>();
  readonly dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  private readonly nodeSpecs = new Map<string, KvNodeSpec>();
  private readonly pausedNodes = new Set<string>();
  private readonly eventLogs: EventLog[] = [];
  private preferredApi: string | undefined;

  private constructor(
    readonly env: TestEnv,
    readonly adminToken: string,
    private readonly extraEnv: Record<string, string>,
    private readonly nodeLauncher?: ClusterOptions['nodeLauncher'],
    private readonly nodeEnv?: ClusterOptions['nodeEnv'],
    private readonly instanceEnv?: ClusterOptions['instanceEnv'],
  ) {}

  static async start(
    prefix: string,
    nodes: KvNodeSpec[],
    adminToken?: string,
  ): Promise<TestCluster>;
  static async start(prefix: string, options: ClusterOptions): Promise<TestCluster>;
  static async start(
    prefix: string,
    nodesOrOptions: KvNodeSpec[] | ClusterOptions,
    adminToken?: string,
  ): Promise<TestCluster> {
    const options: ClusterOptions = Array.isArray(nodesOrOptions)
      ? { nodes: nodesOrOptions, adminToken }
      : nodesOrOptions;
    const cluster = new TestCluster(
      await createTestEnv(prefix, { natsUrl: options.natsUrl, postgresUrl: options.postgresUrl }),
      options.adminToken ?? 'e2e-admin-token',
      options.env ?? {},
      options.nodeLauncher,
      options.nodeEnv,
      options.instanceEnv,
    );
    TestCluster.running.add(cluster);
    try {
      for (const service of SERVICES) {
        const count = (LEASED_SERVICES as readonly string[]).includes(service)
          ? (options.instances?.[service as LeasedService] ?? 1)
          : 1;
        for (let i = 0; i < count; i++) {
          const id = `${service}-${String.fromCharCode(97 + i)}`;
          const port = await freePort();
          if (i === 0) cluster.ports.set(service, port);
          cluster.startInstance(service, id, port);
        }
      }
      await cluster.waitReady();
      for (const node of options.nodes ?? []) cluster.startNode(node);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort()}/api/v1`;
  }

  /** Starts (or restarts) the first instance of a service on its port. */
  startService(service: Service): AppProcess {
    const first = this.instancesOf(service)[0];
    const id = first?.id ?? `${service}-a`;
    const port = first?.port ?? this.ports.get(service);
    if (port === undefined) throw new Error(`no port for ${service}`);
    return this.startInstance(service, id, port).proc;
  }

  /** Starts (or restarts) one instance, by id, on its port (the same as before on a restart). */
  startInstance(
    service: Service,
    id: string,
    port = this.instances.get(id)?.port,
  ): ServiceInstance {
    if (port === undefined) throw new Error(`no port for ${id}`);
    // Postgres sees which process wrote what (pg lets the URL's application_name win).
    const databaseUrl = withApplicationName(this.env.databaseUrl, `tessera-${id}`);
    const proc = startApp(
      service,
      this.env.env({
        ...this.extraEnv,
        TESSERA_HTTP_PORT: String(port),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: this.adminToken,
        TESSERA_INSTANCE_ID: id,
        TESSERA_DATABASE_URL: databaseUrl,
        ...this.instanceEnv?.(id, databaseUrl),
      }),
      id,
    );
    const instance: ServiceInstance = { service, id, port, proc, paused: false };
    this.instances.set(id, instance);
    if (this.instancesOf(service)[0] === instance) this.services.set(service, proc);
    return instance;
  }

  instancesOf(service: Service): ServiceInstance[] {
    return [...this.instances.values()].filter((i) => i.service === service);
  }

  instance(id: string): ServiceInstance {
    const found = this.instances.get(id);
    if (!found) throw new Error(`no instance ${id}`);
    return found;
  }

  startNode(node: KvNodeSpec): AppProcess {
    this.nodeSpecs.set(node.id, node);
    this.pausedNodes.delete(node.id);
    const env = this.env.env({
      ...this.extraEnv,
      TESSERA_NODE_ID: node.id,
      TESSERA_NODE_ZONE: node.zone,
      TESSERA_NODE_RACK: node.rack,
      KV_DATA_DIR: join(this.dataDir, node.id),
      ...this.nodeEnv?.(node),
    });
    // A free inspector port if one is ever opened (SIGUSR1: blockEventLoop, or a developer).
    const proc = this.nodeLauncher
      ? this.nodeLauncher(node, env)
      : startApp('kv-node', env, node.id, ['--inspect-port=0']);
    this.nodes.set(node.id, proc);
    return proc;
  }

  /** Restarts a kv-node with the same id and data directory (after it was killed). */
  restartNode(nodeId: string): AppProcess {
    const spec = this.nodeSpecs.get(nodeId);
    if (!spec) throw new Error(`no kv-node ${nodeId}`);
    return this.startNode(spec);
  }

  // ---- faults: signals to one process, by PID --------------------------------------------

  /** SIGKILL a service instance or kv-node (by instance id or node id); resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const proc = this.processOf(name);
    proc.signal('SIGKILL');
    await proc.exited;
    this.setPaused(name, false);
  }

  /** SIGSTOP: the process freezes (its sockets stay open) until `resume`. */
  pause(name: string): void {
    this.processOf(name).signal('SIGSTOP');
    this.setPaused(name, true);
  }

  /** SIGCONT a paused process. */
  resume(name: string): void {
    this.processOf(name).signal('SIGCONT');
    this.setPaused(name, false);
  }

  /** Blocks a kv-node's or service's event loop for `ms`, the process alive with TCP up (S4). */
  blockEventLoop(name: string, ms: number): Promise<BlockedLoop> {
    return blockEventLoop(this.processOf(name), ms);
  }

  isRunning(name: string): boolean {
    const proc = this.processOf(name);
    return proc.child.exitCode === null && proc.child.signalCode === null;
  }

  private processOf(name: string): AppProcess {
    const proc = this.instances.get(name)?.proc ?? this.nodes.get(name);
    if (!proc) throw new Error(`no process named ${name}`);
    return proc;
  }

  private setPaused(name: string, paused: boolean): void {
    const instance = this.instances.get(name);
    if (instance) instance.paused = paused;
    else if (paused) this.pausedNodes.add(name);
    else this.pausedNodes.delete(name);
  }

  // ---- leases ----------------------------------------------------------------------------

  /** `GET /api/v1/controller` (coordinator) or `/api/v1/recovery` of one instance. */
  async leaseStatus(id: string, timeoutMs = 1_000): Promise<LeaseStatus> {
    const instance = this.instance(id);
    const path = instance.service === 'coordinator' ? 'controller' : instance.service;
    const res = await fetch(`http://127.0.0.1:${instance.port}/api/v1/${path}`, {
      headers: { authorization: `Bearer ${this.adminToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`${id}: GET /api/v1/${path} answered ${res.status}`);
    return (await res.json()) as LeaseStatus;
  }

  /** The one running, unpaused instance of a leased service that says it is active (else undefined). */
  async activeInstance(
    service: LeasedService,
  ): Promise<{ instance: ServiceInstance; status: LeaseStatus } | undefined> {
    const candidates = this.instancesOf(service).filter((i) => !i.paused && this.isRunning(i.id));
    const answers = await Promise.all(
      candidates.map(async (instance) => ({
        instance,
        status: await this.leaseStatus(instance.id).catch(() => null),
      })),
    );
    const active = answers.filter(
      (a): a is { instance: ServiceInstance; status: LeaseStatus } => a.status?.active === true,
    );
    return active.length === 1 ? active[0] : undefined;
  }

  /** Waits for exactly one active instance of a leased service. */
  waitForActive(
    service: LeasedService,
    timeoutMs = 15_000,
  ): Promise<{ instance: ServiceInstance; status: LeaseStatus }> {
    return waitFor(`an active ${service}`, () => this.activeInstance(service), {
      timeoutMs,
      intervalMs: 50,
    });
  }

  /** The active coordinator (the controller-lease holder). */
  activeCoordinator(
    timeoutMs?: number,
  ): Promise<{ instance: ServiceInstance; status: LeaseStatus }> {
    return this.waitForActive('coordinator', timeoutMs);
  }

  // ---- observation -----------------------------------------------------------------------

  /** Starts collecting every public (and internal) event of this cluster; closed by `stop`. */
  async collectEvents(): Promise<EventLog> {
    const log = await EventLog.open(this.env.natsUrl, this.env.cluster);
    this.eventLogs.push(log);
    return log;
  }

  /** Until every running instance answers `/health/ready` (which includes NATS and Postgres). */
  async waitReady(options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
    await Promise.all(
      [...this.instances.values()]
        .filter((instance) => !instance.paused && this.isRunning(instance.id))
        .map((instance) =>
          waitFor(
            `${instance.id} to be ready`,
            async () =>
              (await fetch(`http://127.0.0.1:${instance.port}/health/ready`).catch(() => null))?.ok,
            { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: options.intervalMs },
          ),
        ),
    );
  }

  /** The coordinator instance `api` asks first while it runs (e.g. the one still reaching Postgres). */
  preferApi(id: string | undefined): void {
    this.preferredApi = id;
  }

  /** A port of a coordinator that is running and not paused (the preferred or first one). */
  private apiPort(): number {
    const coordinators = this.instancesOf('coordinator').sort(
      (a, b) => Number(b.id === this.preferredApi) - Number(a.id === this.preferredApi),
    );
    const live = coordinators.find((i) => !i.paused && this.isRunning(i.id));
    const port = (live ?? coordinators[0])?.port ?? this.ports.get('coordinator');
    if (port === undefined) throw new Error('no coordinator');
    return port;
  }

  async api<T>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.adminToken,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Logs of every process, for a failing test's message. */
  logs(): string {
    return [...[...this.instances.values()].map((i) => i.proc), ...this.nodes.values()]
      .map((p) => `----- ${p.name} -----\n${p.output().slice(-4000)}`)
      .join('\n');
  }

  /** Stops every cluster still running (a benchmark interrupted with Ctrl-C calls this). */
  static async stopRunning(): Promise<void> {
    await Promise.all([...TestCluster.running].map((c) => c.stop().catch(() => undefined)));
  }

  async stop(): Promise<void> {
    TestCluster.running.delete(this);
    // A stopped (SIGSTOP) process cannot act on SIGTERM: wake everything first.
    for (const instance of this.instances.values()) if (instance.paused) this.resume(instance.id);
    for (const id of [...this.pausedNodes]) this.resume(id);
    await Promise.all(this.eventLogs.map((l) => l.close().catch(() => undefined)));
    await stopAll([...this.nodes.values(), ...[...this.instances.values()].map((i) => i.proc)]);
    rmSync(this.dataDir, { recursive: true, force: true });
    await this.env.destroy();
  }
}

/** The database URL with `application_name` set (it overrides the service's own name in pg). */
export function withApplicationName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return url.toString();
}
