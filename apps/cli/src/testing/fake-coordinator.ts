import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Io } from '../cli-context';

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** `null` = never answer (to test timeouts); a string body is sent as is (not JSON). */
export type Reply = { status: number; body?: unknown } | null;
export type Route = (request: Recorded) => Reply;

/** A tiny stand-in for the coordinator's admin API, on a free port, for unit tests. */
export class FakeCoordinator {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const path = (req.url ?? '').replace(/^\/api\/v1/, '');
        const recorded: Recorded = {
          method: req.method ?? 'GET',
          path,
          authorization: req.headers.authorization,
          body: text ? (JSON.parse(text) as unknown) : undefined,
        };
        this.requests.push(recorded);
        const route = this.routes.get(`${recorded.method} ${path}`);
        const reply = route
          ? route(recorded)
          : {
              status: 404,
              body: { statusCode: 404, code: 'NOT_FOUND', message: `no route ${path}` },
            };
        if (reply === null) {
          this.hanging.add(res);
          return;
        }
        const payload =
          typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? '');
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(payload);
      });
    });
  }

  on(method: string, path: string, route: Route | Reply): this {
    this.routes.set(`${method} ${path}`, typeof route === 'function' ? route : () => route);
    return this;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** An Io that keeps what was written, for assertions. */
export function bufferIo(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    progressStream: process.stderr,
    out: () => out,
    err: () => err,
  };
}
