import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Cut off: whatever either side sends is read and dropped, as a partition loses packets. */
  dark: boolean;
  /** Half cut: what the server sends is dropped, what the process sends still gets through. */
  deaf: boolean;
}

/**
 * A TCP proxy between one process and its NATS (S7) or Postgres (S8) server that the test can cut:
 * while isolated, connections stay open but nothing gets through in either direction, and new
 * ones are accepted and left dark, as when packets are dropped rather than refused. On heal the
 * dark connections are reset (a long partition's TCP connections rarely survive it) and new
 * ones go through again.
 */
export class CuttableProxy {
  private readonly pairs = new Set<Pair>();
  private isolated = false;
  private deafened = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** A proxy to the first server of `targetUrl` (nats://… or postgres://…). */
  static async start(targetUrl: string, defaultPort = 4222): Promise<CuttableProxy> {
    const target = new URL(targetUrl.split(',')[0]);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new CuttableProxy(server, address.port, {
      host: target.hostname,
      port: Number(target.port || defaultPort),
    });
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** The URL the isolated process is given instead of the server's. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `serverUrl` (e.g. a Postgres URL) pointed at this proxy instead. */
  via(serverUrl: string): string {
    const url = new URL(serverUrl);
    url.host = `127.0.0.1:${this.port}`;
    return url.toString();
  }

  isolate(): void {
    this.isolated = true;
    for (const pair of this.pairs) pair.dark = true;
  }

  /** Asymmetric (S9): the process still reaches the server, but hears nothing back. */
  deafen(): void {
    this.deafened = true;
    for (const pair of this.pairs) pair.deaf = true;
  }

  heal(): void {
    this.isolated = false;
    this.deafened = false;
    for (const pair of [...this.pairs]) if (pair.dark || pair.deaf) this.drop(pair);
  }

  async close(): Promise<void> {
    for (const pair of [...this.pairs]) this.drop(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: null, dark: this.isolated, deaf: this.deafened };
    this.pairs.add(pair);
    client.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair));
    client.on('data', (chunk) => {
      if (!pair.dark) pair.upstream?.write(chunk);
    });
    if (pair.dark) return; // accepted, and nothing ever reaches the server
    const upstream = tcpConnect(this.target.port, this.target.host);
    pair.upstream = upstream;
    client.pause(); // until the server side is up, so nothing is dropped
    upstream.on('connect', () => client.resume());
    upstream.on('data', (chunk) => {
      if (!pair.dark && !pair.deaf) client.write(chunk);
    });
    upstream.on('error', () => this.drop(pair));
    upstream.on('close', () => this.drop(pair));
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
