import { randomBytes } from 'node:crypto';
import { currentCorrelationId, withCorrelation } from './correlation';
import { CORRELATION_HEADER, NetworkManager } from './network-manager';

describe('correlation ids across NATS hops', () => {
  const cluster = `corr${randomBytes(3).toString('hex')}`;
  const servers = [process.env['TESSERA_NATS_URL'] ?? 'nats://127.0.0.1:4222'];
  const sut = new NetworkManager(cluster, { servers }, 'corr-test');

  beforeAll(() => sut.connect());
  afterAll(() => sut.close());

  it('sends the current correlation id as a header with every request', async () => {
    const seen: (string | undefined)[] = [];
    sut.subscribe('test.echo', (msg) => {
      seen.push(msg.headers?.get(CORRELATION_HEADER));
      NetworkManager.respond(msg, { ok: true });
    });
    await withCorrelation('req-42', () => sut.requestRaw('test.echo', {}, { timeoutMs: 2_000 }));
    await sut.requestRaw('test.echo', {}, { timeoutMs: 2_000 });
    expect(seen[0]).toBe('req-42');
    expect(seen[1] ?? '').toBe('');
  });

  it('replaces a malformed id with a fresh one', () => {
    const id = withCorrelation('bad id with spaces', () => currentCorrelationId());
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
