import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ReplicaFetchBatchRequestV1,
  type ReplicaFetchPartitionReplyV1,
  type RoleAssignmentV1,
  Subjects,
} from '@tessera/contracts';
import { PartitionStore } from '../storage/partition-store';
import { catchUpBytes, FetchSession } from './fetch-session';
import { FollowerPartition, type FollowerLogger } from './follower-partition';

const quiet = (): void => undefined;
const logger: FollowerLogger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/** A deadline-bound poll. */
async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  ms = 3_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Call {
  subject: string;
  request: ReplicaFetchBatchRequestV1;
  answer(partitions: ReplicaFetchPartitionReplyV1[]): void;
}

function follower(partition: number): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition,
    partitionCount: 4,
    role: 'FOLLOWER',
    leader: 'a',
    leaderEpoch: '2',
    isr: ['a', 'b'],
    replicas: ['a', 'b'],
  };
}

describe(FetchSession.name, () => {
  let dir: string;
  let calls: Call[];
  let stores: PartitionStore[];
  let sut: FetchSession;
  let reconciles: number;
  let caughtUp: number;

  async function partition(p: number): Promise<FollowerPartition> {
    const store = await PartitionStore.open(dir, 'orders', p);
    stores.push(store);
    const fp = new FollowerPartition(follower(p), {
      nodeId: 'b',
      onStaleRole: () => reconciles++,
      onCaughtUp: () => caughtUp++,
      logger,
      retryMs: 50,
      now: () => performance.now(),
    });
    fp.attach(store);
    return fp;
  }

  const ok = (
    p: number,
    extra: Partial<ReplicaFetchPartitionReplyV1> = {},
  ): ReplicaFetchPartitionReplyV1 => ({
    resource: 'orders',
    partition: p,
    ok: true,
    leaderEpoch: '2',
    highWatermark: 0,
    logEndOffset: 0,
    records: [],
    ...extra,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-session-'));
    calls = [];
    stores = [];
    reconciles = 0;
    caughtUp = 0;
    sut = new FetchSession({
      nodeId: 'b',
      leaderId: 'a',
      request: (subject, payload) =>
        new Promise((resolve) =>
          calls.push({
            subject,
            request: payload as ReplicaFetchBatchRequestV1,
            answer: (partitions) => resolve({ ok: true, partitions }),
          }),
        ),
      logger,
      maxRecords: 100,
      maxWaitMs: 500,
      fetchTimeoutMs: 2_000,
      retryMs: 50,
      maxPartitionsPerRequest: 100,
      supersedeDelayMs: 5,
      now: () => performance.now(),
    });
  });

  afterEach(async () => {
    await sut.stop();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches every partition in one request and appends each answer to its own log', async () => {
    const p0 = await partition(0);
    const p1 = await partition(1);
    sut.add(p0);
    sut.add(p1);
    const first = await waitFor('a request with both', () =>
      calls.find((c) => c.request.partitions.length === 2),
    );
    expect(first.subject).toBe(Subjects.replica.fetch('a'));
    expect(first.request).toMatchObject({ followerId: 'b', maxRecords: 100, maxWaitMs: 500 });
    first.answer([
      ok(0, { logEndOffset: 1, records: [{ offset: 0, epoch: '2', key: 'x', value: '0' }] }),
      ok(1, { logEndOffset: 0 }),
    ]);
    const next = await waitFor('the next request', () => calls[calls.indexOf(first) + 1]);
    expect(next.request.partitions).toEqual([
      { resource: 'orders', partition: 0, leaderEpoch: '2', fetchOffset: 1, lastFetchedEpoch: '2' },
      { resource: 'orders', partition: 1, leaderEpoch: '2', fetchOffset: 0 },
    ]);
    expect(stores[0].get('x')?.value).toBe('0');
    expect(caughtUp).toBe(2);
  });

  it('supersedes a parked request when a partition is added, ignoring the old answer', async () => {
    sut.add(await partition(0));
    const parked = await waitFor('a request', () => calls[0]);
    sut.add(await partition(1));
    const wider = await waitFor('a superseding request', () =>
      calls.find((c) => c.request.partitions.length === 2),
    );
    // The old request's answer arrives late: it must not be applied.
    parked.answer([
      ok(0, { logEndOffset: 1, records: [{ offset: 0, epoch: '2', key: 'old', value: '!' }] }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(stores[0].logEndOffset).toBe(0);
    wider.answer([ok(0), ok(1)]);
    await waitFor('the loop to go on', () => calls.length > calls.indexOf(wider) + 1);
  });

  it('pauses a refused partition, reconciles on a stale epoch, and truncates when told', async () => {
    const p0 = await partition(0);
    await stores[0].appendReplicated([
      { offset: 0, epoch: '1', key: 'a', value: '1' },
      { offset: 1, epoch: '1', key: 'b', value: 'divergent' },
    ]);
    sut.add(p0);
    const first = await waitFor('a request', () => calls[0]);
    first.answer([
      { resource: 'orders', partition: 0, ok: false, code: 'STALE_EPOCH', message: 'newer' },
    ]);
    expect(await waitFor('a reconcile', () => reconciles === 1)).toBe(true);
    const started = performance.now();
    const retry = await waitFor('the retry', () => calls[1]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(retry.request.partitions[0]).toMatchObject({ fetchOffset: 2, lastFetchedEpoch: '1' });
    retry.answer([ok(0, { truncateTo: 1, divergingEpoch: '1' })]);
    const after = await waitFor('a fetch after truncating', () => calls[2]);
    expect(after.request.partitions[0]).toMatchObject({ fetchOffset: 1 });
    expect(stores[0].get('b')).toBeNull();
  });

  it('drops the answer of a partition removed while the request was out', async () => {
    const p0 = await partition(0);
    sut.add(p0);
    const call = await waitFor('a request', () => calls[0]);
    await sut.remove(p0.key);
    call.answer([
      ok(0, { logEndOffset: 1, records: [{ offset: 0, epoch: '2', key: 'x', value: '0' }] }),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(stores[0].logEndOffset).toBe(0);
    expect(sut.size).toBe(0);
  });
});

describe(catchUpBytes.name, () => {
  const record = (offset: number) => ({ offset, epoch: '1', key: 'k', value: 'vvvv' });

  it('counts records copied to a partition still behind its leader', () => {
    const answers = [
      { resource: 'r', partition: 0, ok: true, logEndOffset: 100, records: [record(10), record(11)] },
      { resource: 'r', partition: 1, ok: true, logEndOffset: 12, records: [record(10), record(11)] },
    ];
    expect(catchUpBytes(answers, [{ fetchOffset: 10 }, { fetchOffset: 10 }])).toBe(10);
  });

  it('never counts live replication, refusals or empty answers', () => {
    const answers = [
      { resource: 'r', partition: 0, ok: true, logEndOffset: 11, records: [record(10)] },
      { resource: 'r', partition: 1, ok: false, code: 'NOT_LEADER' as const },
      { resource: 'r', partition: 2, ok: true, logEndOffset: 50, records: [] },
    ];
    expect(catchUpBytes(answers, [{ fetchOffset: 10 }, { fetchOffset: 3 }, { fetchOffset: 20 }])).toBe(0);
  });
});
