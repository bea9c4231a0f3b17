import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppProcess, createTestEnv, freePort, startApp, stopAll, type TestEnv, waitFor } from '@tessera/testing';

export const SERVICES = ['coordinator', 'health', 'consensus', 'replication', 'recovery'] as const;
export type Service = (typeof SERVICES)[number];

export interface KvNodeSpec {
  id: string;
  zone: string;
  rack: string;
}

/** A whole Tessera fleet as real processes, on free ports, in its own database and cluster. */
export class TestCluster {
  readonly services = new Map<Service, AppProcess>();
  readonly nodes = new Map<string, AppProcess>();
  readonly ports = new Map<Service, number>();
  readonly dataDir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));

  private constructor(
    readonly env: TestEnv,
    readonly adminToken: string,
  ) {}

  static async start(prefix: string, nodes: KvNodeSpec[], adminToken = 'e2e-admin-token'): Promise<TestCluster> {
    const cluster = new TestCluster(await createTestEnv(prefix), adminToken);
    for (const service of SERVICES) cluster.ports.set(service, await freePort());
    for (const service of SERVICES) cluster.startService(service);
    await cluster.waitReady();
    for (const node of nodes) cluster.startNode(node);
    return cluster;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.get('coordinator')}/api/v1`;
  }

  startService(service: Service): AppProcess {
    const proc = startApp(
      service,
      this.env.env({
        TESSERA_HTTP_PORT: String(this.ports.get(service)),
        TESSERA_HTTP_HOST: '127.0.0.1',
        TESSERA_ADMIN_TOKEN: this.adminToken,
      }),
    );
    this.services.set(service, proc);
    return proc;
  }

  startNode(node: KvNodeSpec): AppProcess {
    const proc = startApp(
      'kv-node',
      this.env.env({
        TESSERA_NODE_ID: node.id,
        TESSERA_NODE_ZONE: node.zone,
        TESSERA_NODE_RACK: node.rack,
        KV_DATA_DIR: join(this.dataDir, node.id),
      }),
      node.id,
    );
    this.nodes.set(node.id, proc);
    return proc;
  }

  async waitReady(): Promise<void> {
    for (const service of SERVICES) {
      await waitFor(
        `${service} to be ready`,
        async () => (await fetch(`http://127.0.0.1:${this.ports.get(service)}/health/ready`)).ok,
        { timeoutMs: 30_000 },
      );
    }
  }

  async api<T>(method: string, path: string, body?: unknown, token: string | null = this.adminToken): Promise<{ status: number; body: T }> {
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
    return [...this.services.values(), ...this.nodes.values()]
      .map((p) => `----- ${p.name} -----\n${p.output().slice(-4000)}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await stopAll([...this.nodes.values(), ...this.services.values()]);
    rmSync(this.dataDir, { recursive: true, force: true });
    await this.env.destroy();
  }
}
