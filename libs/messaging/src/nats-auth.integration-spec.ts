import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Subjects, TesseraError } from '@tessera/contracts';
import { freePort, waitFor } from '@tessera/testing';
import { NetworkManager } from './network-manager';
import { natsAuthorizationBlock, natsPermissions } from './nats-permissions';

const NATS_SERVER = '/usr/sbin/nats-server';
const cluster = 'authtest';

describe('NATS authentication and subject permissions (own nats-server)', () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  const opened: NatsConnection[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'tessera-nats-auth-'));
    const conf = join(dir, 'nats.conf');
    writeFileSync(
      conf,
      `listen: 127.0.0.1:${port}\n` +
        natsAuthorizationBlock([
          { user: 'coordinator', password: 'coord-secret', permissions: natsPermissions(cluster, { kind: 'service', service: 'coordinator' }) },
          { user: 'node-kv1', password: 'kv1-secret', permissions: natsPermissions(cluster, { kind: 'node', nodeId: 'kv1' }) },
        ]),
    );
    server = spawn(NATS_SERVER, ['-c', conf], { stdio: 'ignore' });
    await waitFor('nats-server to accept connections', async () => {
      const nc = await connect({ servers: url, user: 'coordinator', pass: 'coord-secret', reconnect: false });
      await nc.close();
      return true;
    });
  });

  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    if (server.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      process.kill(server.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses wrong credentials', async () => {
    await expect(connect({ servers: url, user: 'coordinator', pass: 'wrong', reconnect: false })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
    await expect(connect({ servers: url, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it('lets a service connect through the NetworkManager with user and password', async () => {
    const sut = new NetworkManager(cluster, { servers: [url], user: 'coordinator', pass: 'coord-secret' }, 'test-coordinator');
    await sut.connect();
    expect(sut.isConnected).toBe(true);
    await sut.close();
  });

  it('stops a node from publishing to a coordinator-only subject, and from speaking as another node', async () => {
    const coordinator = await connect({ servers: url, user: 'coordinator', pass: 'coord-secret' });
    opened.push(coordinator);
    const received: string[] = [];
    coordinator.subscribe(`tessera.v1.${cluster}.events.>`, { callback: (_e, m) => received.push(m.subject) });
    const coordinatorInbox = coordinator.subscribe(`tessera.v1.${cluster}.coordinator.>`, {
      callback: (_e, m) => received.push(m.subject),
    });
    await coordinator.flush();

    const node = await connect({ servers: url, user: 'node-kv1', pass: 'kv1-secret' });
    opened.push(node);
    const violations: string[] = [];
    void (async () => {
      for await (const s of node.status()) violations.push(`${s.type}:${String(s.data)}`);
    })();

    // Forged events and another node's identity: the server drops them and reports a violation.
    node.publish(`tessera.v1.${cluster}.events.map`, new TextEncoder().encode('{"version":999}'));
    node.publish(`tessera.v1.${cluster}.consensus.partition.elect`, new TextEncoder().encode('{}'));
    // An allowed subject goes through (proves the connection itself works).
    node.publish(`tessera.v1.${cluster}.${Subjects.coordinator.registerNode}`, new TextEncoder().encode('{}'));
    await node.flush();

    await waitFor('the allowed publish to arrive', () => received.includes(`tessera.v1.${cluster}.coordinator.node.register`));
    await waitFor('two permission violations', () => violations.filter((v) => /^error:.*permission/i.test(v)).length >= 2);
    expect(received).not.toContain(`tessera.v1.${cluster}.events.map`);
    coordinatorInbox.unsubscribe();
  });

  it('turns a forbidden request into a clear error for the caller', async () => {
    const node = new NetworkManager(cluster, { servers: [url], user: 'node-kv1', pass: 'kv1-secret' }, 'test-node');
    await node.connect();
    try {
      const error = await node
        .request('consensus.partition.elect', Subjects.consensus.electLeaders, { unavailable: [], reason: 'RECONCILE' }, { timeoutMs: 500 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TesseraError);
    } finally {
      await node.close();
    }
  });
});
