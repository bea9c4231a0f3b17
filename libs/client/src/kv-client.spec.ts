import 'reflect-metadata';
import { Subjects, TesseraError, partitionForKey } from '@tessera/contracts';
import {
  KvClient,
  type KvRequester,
  UnknownOutcomeError,
  isUnknownOutcome,
  recoveryFor,
} from './kv-client';
import { PartitionMapClient } from './partition-map-client';
import { FakeMapSource, resource } from './testing.fakes';

type Handler = (subject: string, payload: unknown) => unknown;

/** Answers requests with a scripted handler and records where each went. */
class FakeRequester implements KvRequester {
  readonly sent: { subject: string; payload: unknown }[] = [];

  constructor(public handler: Handler) {}

  async requestRaw(subject: string, payload: unknown): Promise<unknown> {
    this.sent.push({ subject, payload });
    return this.handler(subject, payload);
  }
}

describe(KvClient.name, () => {
  let source: FakeMapSource;
  let router: PartitionMapClient;
  let requester: FakeRequester;
  let sut: KvClient;
  const partition = partitionForKey('k', 4);

  beforeEach(async () => {
    source = new FakeMapSource({ version: 1, resources: [resource('orders', 4, ['n1'])] });
    router = new PartitionMapClient({ source, refreshIntervalMs: 0 });
    await router.start();
    requester = new FakeRequester(() => ({ ok: true, epoch: '1', offset: 7 }));
    sut = new KvClient({ router, requester, attempts: 3, backoffMs: 1 });
  });

  afterEach(() => router.close());

  it('sends a put to the subject of the key’s partition and returns the reply', async () => {
    await expect(sut.put('orders', 'k', 'v')).resolves.toEqual({
      partition,
      epoch: '1',
      offset: 7,
    });
    expect(requester.sent).toEqual([
      { subject: Subjects.kv.put('orders', partition), payload: { key: 'k', value: 'v' } },
    ]);
  });

  it('returns a get’s value, null included', async () => {
    requester.handler = () => ({ ok: true, value: null, epoch: '3' });
    await expect(sut.get('orders', 'k')).resolves.toEqual({ partition, value: null, epoch: '3' });
    expect(requester.sent[0].subject).toBe(Subjects.kv.get('orders', partition));
  });

  it('refreshes the map and retries after NOT_LEADER', async () => {
    let calls = 0;
    requester.handler = () =>
      ++calls === 1
        ? { ok: false, code: 'NOT_LEADER', message: 'moved' }
        : { ok: true, epoch: '2', offset: 0 };
    source.map = { version: 2, resources: [resource('orders', 4, ['n2'], 2)] };
    await expect(sut.put('orders', 'k', 'v')).resolves.toMatchObject({ epoch: '2' });
    expect(source.calls).toBe(2);
    expect(router.version).toBe(2);
  });

  it('retries after a timeout or nobody answering, then gives up with the last code', async () => {
    let calls = 0;
    requester.handler = () => {
      calls++;
      throw new TesseraError(calls % 2 ? 'TIMEOUT' : 'UNAVAILABLE', 'silence');
    };
    const failure = sut.get('orders', 'k');
    await expect(failure).rejects.toBeInstanceOf(TesseraError);
    await expect(failure).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('after 3 attempts'),
    });
    expect(calls).toBe(3);
    expect(source.calls).toBe(3); // start + a refresh before each retry
  });

  it('does not retry an invalid request', async () => {
    requester.handler = () => ({ ok: false, code: 'INVALID', message: 'value too long' });
    await expect(sut.put('orders', 'k', 'v')).rejects.toMatchObject({ code: 'INVALID' });
    expect(requester.sent).toHaveLength(1);
  });

  it('waits for a leader when the partition is offline', async () => {
    source.map = { version: 1, resources: [{ ...resource('orders', 4, ['n1']), partitions: [] }] };
    await router.refresh();
    await expect(sut.put('orders', 'k', 'v')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(requester.sent).toHaveLength(0);
  });

  it('looks for an unknown resource in a fresh map once before failing', async () => {
    source.map = {
      version: 2,
      resources: [resource('orders', 4, ['n1']), resource('users', 2, ['n1'])],
    };
    await expect(sut.put('users', 'k', 'v')).resolves.toMatchObject({ offset: 7 });
    await expect(sut.put('nope', 'k', 'v')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each([
    ['a TIMEOUT reply', () => ({ ok: false, code: 'TIMEOUT', message: 'ISR did not confirm' })],
    [
      'a NOT_ENOUGH_REPLICAS reply',
      () => ({ ok: false, code: 'NOT_ENOUGH_REPLICAS', message: 'isr' }),
    ],
    [
      'an UNAVAILABLE reply (failed disk write)',
      () => ({ ok: false, code: 'UNAVAILABLE', message: 'disk' }),
    ],
    [
      'no reply at all',
      () => {
        throw new TesseraError('TIMEOUT', 'no reply within 2000 ms');
      },
    ],
  ])(
    'fails a put with an unknown outcome after %s, without retrying it',
    async (_what, handler) => {
      requester.handler = handler;
      const failure = sut.put('orders', 'k', 'v');
      await expect(failure).rejects.toBeInstanceOf(UnknownOutcomeError);
      await expect(failure).rejects.toMatchObject({
        message: expect.stringContaining('outcome unknown'),
      });
      expect(requester.sent).toHaveLength(1);
      expect(source.calls).toBe(1); // no refresh either
    },
  );

  it('retries a put nobody received (no responders) as a definite failure', async () => {
    let calls = 0;
    requester.handler = () => {
      if (++calls === 1)
        throw new TesseraError('UNAVAILABLE', 'nobody serves', { cause: { code: '503' } });
      return { ok: true, epoch: '2', offset: 3 };
    };
    await expect(sut.put('orders', 'k', 'v')).resolves.toMatchObject({ offset: 3 });
    expect(calls).toBe(2);
  });

  it('retries an unknown outcome only when the caller opts in, and still reports it', async () => {
    sut = new KvClient({ router, requester, attempts: 3, backoffMs: 1, retryUnknownOutcome: true });
    let calls = 0;
    requester.handler = () =>
      ++calls === 1
        ? { ok: false, code: 'TIMEOUT', message: 'slow ISR' }
        : { ok: true, epoch: '1', offset: 9 };
    await expect(sut.put('orders', 'k', 'v')).resolves.toMatchObject({ offset: 9 });
    expect(source.calls).toBe(2); // refreshed before the retry

    requester.handler = () =>
      calls++ % 2
        ? { ok: false, code: 'NOT_LEADER', message: 'moved' }
        : { ok: false, code: 'TIMEOUT', message: 'slow ISR' };
    const error: unknown = await sut.put('orders', 'k', 'v').catch((e: unknown) => e);
    expect(isUnknownOutcome(error)).toBe(true);
    expect(isUnknownOutcome(new TesseraError('TIMEOUT', 'a get'))).toBe(false);
  });

  it('keeps retrying gets after a timeout reply', async () => {
    let calls = 0;
    requester.handler = () =>
      ++calls === 1
        ? { ok: false, code: 'TIMEOUT', message: 'slow' }
        : { ok: true, value: 'v', epoch: '1' };
    await expect(sut.get('orders', 'k')).resolves.toMatchObject({ value: 'v' });
    expect(calls).toBe(2);
  });

  it('refuses a malformed reply', async () => {
    requester.handler = () => ({ ok: true, epoch: 1 });
    await expect(sut.put('orders', 'k', 'v')).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe(recoveryFor.name, () => {
  it('refreshes on routing errors, retries a short ISR, fails on bad input', () => {
    expect(recoveryFor('NOT_LEADER')).toBe('refresh');
    expect(recoveryFor('NOT_ENOUGH_REPLICAS')).toBe('retry');
    expect(recoveryFor('INVALID')).toBe('fail');
  });
});
