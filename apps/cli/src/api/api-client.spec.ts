import { freePort } from '@tessera/testing';
import { FakeCoordinator } from '../testing/fake-coordinator';
import { ApiClient, ApiError } from './api-client';
import { CliError, EXIT_INTERRUPTED } from './cli-error';

describe(ApiClient.name, () => {
  let coordinator: FakeCoordinator;
  let url: string;

  beforeEach(async () => {
    coordinator = new FakeCoordinator();
    url = await coordinator.start();
  });

  afterEach(() => coordinator.stop());

  const client = (
    options: { token?: string | null; timeoutMs?: number; interrupt?: AbortSignal } = {},
  ) =>
    new ApiClient(
      {
        baseUrl: url,
        token: options.token === null ? undefined : 'secret-token',
        timeoutMs: options.timeoutMs ?? 2_000,
      },
      options.interrupt,
    );

  async function failure(call: Promise<unknown>): Promise<CliError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`);
    return error;
  }

  it('calls /api/v1 with the bearer token and returns the parsed body', async () => {
    coordinator.on('GET', '/nodes', { status: 200, body: [{ id: 'n1' }] });
    const sut = client();

    const nodes = await sut.nodes();

    expect(nodes).toEqual([{ id: 'n1' }]);
    expect(coordinator.requests).toEqual([
      { method: 'GET', path: '/nodes', authorization: 'Bearer secret-token', body: undefined },
    ]);
  });

  it('sends JSON bodies and escapes names in paths', async () => {
    coordinator.on('POST', '/resources/a%2Fb/rebalance', {
      status: 200,
      body: { resource: 'a/b' },
    });

    await client().rebalance('a/b', true);

    expect(coordinator.requests[0]).toMatchObject({ method: 'POST', body: { dryRun: true } });
  });

  it('reads operations as a bare list or inside { operations }', async () => {
    const op = { id: 'o1' };
    coordinator.on('GET', '/operations', { status: 200, body: { operations: [op] } });
    await expect(client().operations()).resolves.toEqual([op]);

    coordinator.on('GET', '/operations', { status: 200, body: [op] });
    await expect(client().operations()).resolves.toEqual([op]);
  });

  it('maps 401 to "unauthorized" and says when no token is set', async () => {
    coordinator.on('GET', '/map', {
      status: 401,
      body: {
        statusCode: 401,
        code: 'UNAUTHORIZED',
        message: 'missing Authorization: Bearer <token>',
      },
    });

    const withToken = await failure(client().map());
    const withoutToken = await failure(client({ token: null }).map());

    expect(withToken.message).toBe('unauthorized: missing Authorization: Bearer <token>');
    expect(withToken.exitCode).toBe(1);
    expect(withoutToken.message).toBe(
      'unauthorized: missing Authorization: Bearer <token> (TESSERA_ADMIN_TOKEN is not set)',
    );
    expect(coordinator.requests[1]?.authorization).toBeUndefined();
  });

  it('maps 403 to "unauthorized" too', async () => {
    coordinator.on('GET', '/map', {
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'bad token' },
    });

    const error = await failure(client().map());

    expect(error.message).toBe('unauthorized: bad token');
  });

  it('maps 404 to "not found" with the server message', async () => {
    coordinator.on('GET', '/resources/nope', {
      status: 404,
      body: { statusCode: 404, code: 'NOT_FOUND', message: 'resource "nope" does not exist' },
    });

    const error = await failure(client().resource('nope'));

    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('not found: resource "nope" does not exist');
    expect((error as ApiError).status).toBe(404);
  });

  it('maps 400 and 409 to "invalid request" and "conflict"', async () => {
    coordinator.on('POST', '/resources', {
      status: 409,
      body: { statusCode: 409, code: 'CONFLICT', message: 'resource "a" exists' },
    });
    coordinator.on('DELETE', '/resources/a', {
      status: 400,
      body: { statusCode: 400, code: 'INVALID', message: ['name must be a token', 'too long'] },
    });

    const conflict = await failure(
      client().createResource({ name: 'a', partitions: 1, replicationFactor: 1 }),
    );
    const invalid = await failure(client().deleteResource('a'));

    expect(conflict.message).toBe('conflict: resource "a" exists');
    expect(invalid.message).toBe('invalid request: name must be a token; too long');
  });

  it('maps 429 to "rate limited", a failure worth retrying', async () => {
    coordinator.on('GET', '/operations', {
      status: 429,
      body: {
        statusCode: 429,
        code: 'UNAVAILABLE',
        message: 'ThrottlerException: Too Many Requests',
      },
    });

    const error = await failure(client().operations());

    expect(error.message).toBe('rate limited: ThrottlerException: Too Many Requests');
    expect((error as ApiError).transient).toBe(true);
  });

  it('maps 500 to a coordinator error carrying status and code, on one line', async () => {
    coordinator.on('GET', '/nodes', {
      status: 500,
      body: { statusCode: 500, code: 'INTERNAL', message: 'internal\nerror' },
    });

    const error = await failure(client().nodes());

    expect(error.message).toBe('coordinator error: internal error (HTTP 500 INTERNAL)');
    expect((error as ApiError).unreachable).toBe(false);
    expect((error as ApiError).transient).toBe(false);
  });

  it('rejects a 200 that is not JSON (a wrong TESSERA_API_URL)', async () => {
    coordinator.on('GET', '/nodes', { status: 200, body: '<html>hello</html>' });

    const error = await failure(client().nodes());

    expect(error.message).toBe(
      `unexpected reply from ${url}/api/v1/nodes: not JSON (is TESSERA_API_URL the coordinator?)`,
    );
  });

  it('says "connection refused" when nothing listens', async () => {
    const port = await freePort();
    const sut = new ApiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: undefined,
      timeoutMs: 2_000,
    });

    const error = await failure(sut.nodes());

    expect(error.message).toBe(
      `cannot reach the coordinator at http://127.0.0.1:${port}: connection refused`,
    );
    expect((error as ApiError).unreachable).toBe(true);
    expect(error.exitCode).toBe(1);
  });

  it('gives up after the timeout when the coordinator does not answer', async () => {
    coordinator.on('GET', '/map', null);

    const error = await failure(client({ timeoutMs: 200 }).map());

    expect(error.message).toBe(`cannot reach the coordinator at ${url}: no answer within 0.2s`);
    expect((error as ApiError).code).toBe('TIMEOUT');
  });

  it('stops at once on Ctrl-C with exit code 130', async () => {
    coordinator.on('GET', '/map', null);
    const interrupt = new AbortController();
    const call = client({ timeoutMs: 5_000, interrupt: interrupt.signal }).map();

    setImmediate(() => interrupt.abort());
    const error = await failure(call);

    expect(error.message).toBe('interrupted');
    expect(error.exitCode).toBe(EXIT_INTERRUPTED);
  });
});

