import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RoleAssignmentV1 } from '@tessera/contracts';
import { PartitionStore } from '../storage/partition-store';
import { LeaderReplica, type LeaderReplicaOptions } from './leader-replica';

function assignment(isr: string[], replicas = ['a', 'b', 'c'], epoch = '2'): RoleAssignmentV1 {
  return {
    resource: 'orders',
    partition: 0,
    partitionCount: 1,
    role: 'LEADER',
    leader: 'a',
    leaderEpoch: epoch,
    isr,
    replicas,
  };
}

describe(LeaderReplica.name, () => {
  let dir: string;
  let store: PartitionStore;
  let serving: boolean;
  let sut: LeaderReplica;

  function leader(
    a: RoleAssignmentV1,
    overrides: Partial<LeaderReplicaOptions> = {},
  ): LeaderReplica {
    return new LeaderReplica(store, a, {
      nodeId: 'a',
      minIsr: 2,
      ackTimeoutMs: 2_000,
      catchUpGraceMs: 1_000,
      clock: () => 0,
      stillServing: () => serving,
      ...overrides,
    });
  }

  /** A follower's fetch at `offset` (its durable log end) with its last record's epoch. */
  function fetchFrom(
    id: string,
    offset: number,
    lastEpoch: string | null = offset > 0 ? '2' : null,
  ) {
    return sut.beginFetch({
      followerId: id,
      fetchOffset: offset,
      lastFetchedEpoch: lastEpoch === null ? null : BigInt(lastEpoch),
    });
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-leader-'));
    store = await PartitionStore.open(dir, 'orders', 0);
    serving = true;
  });

  afterEach(async () => {
    sut?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a put only once every ISR member fetched past it', async () => {
    sut = leader(assignment(['a', 'b', 'c']));
    let acked = false;
    const put = sut.put('k', 'v').then((r) => {
      acked = true;
      return r;
    });
    await store.drain();
    await new Promise((r) => setImmediate(r));
    expect(fetchFrom('b', 1)).toBeNull();
    await new Promise((r) => setImmediate(r));
    expect(acked).toBe(false); // c has not confirmed
    expect(sut.read('k')).toBeNull(); // nor is it visible
    fetchFrom('c', 1);
    await expect(put).resolves.toMatchObject({ offset: 0, epoch: '2' });
    expect(sut.highWatermark).toBe(1);
    expect(sut.read('k')?.value).toBe('v');
  });

  it('refuses a put before writing anything when the ISR is below the minimum', async () => {
    sut = leader(assignment(['a']));
    await expect(sut.put('k', 'v')).rejects.toMatchObject({
      code: 'NOT_ENOUGH_REPLICAS',
      message: expect.stringContaining('nothing was written'),
    });
    expect(store.logEndOffset).toBe(0);
  });

  it('caps the minimum ISR at the replica count', async () => {
    sut = leader(assignment(['a'], ['a']));
    await expect(sut.put('k', 'v')).resolves.toMatchObject({ offset: 0 });
  });

  it('fails a waiting put with an unknown outcome at its deadline', async () => {
    sut = leader(assignment(['a', 'b']), { ackTimeoutMs: 100 });
    await expect(sut.put('k', 'v')).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('may or may not survive'),
    });
    expect(store.logEndOffset).toBe(1); // appended, never acknowledged, never visible
    expect(sut.read('k')).toBeNull();
  });

  it('fails a waiting put when the ISR shrinks below the minimum, or leadership ends', async () => {
    sut = leader(assignment(['a', 'b', 'c']));
    const first = sut.put('k1', 'v');
    await store.drain();
    sut.update(assignment(['a']));
    await expect(first).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' });
    sut.update(assignment(['a', 'b']));
    const second = sut.put('k2', 'v');
    await store.drain();
    sut.close();
    await expect(second).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('does not acknowledge when the lease lapsed while it waited', async () => {
    sut = leader(assignment(['a', 'b']));
    const put = sut.put('k', 'v');
    await store.drain();
    await new Promise((r) => setImmediate(r));
    serving = false;
    fetchFrom('b', 1);
    await expect(put).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('serves reads only once the ISR confirmed the log it inherited', async () => {
    await store.appendReplicated([
      { offset: 0, epoch: '1', key: 'k', value: 'inherited' },
      { offset: 1, epoch: '1', key: 'k', value: 'maybe-unacknowledged' },
    ]);
    sut = leader(assignment(['a', 'b']));
    expect(sut.epochStart).toBe(2);
    expect(sut.readable).toBe(false);
    await expect(sut.awaitReadable(20)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const waiting = sut.awaitReadable(1_000);
    fetchFrom('b', 2, '1');
    await expect(waiting).resolves.toBeUndefined();
    expect(sut.read('k')?.value).toBe('maybe-unacknowledged');
  });

  it('answers a divergent follower with where to truncate, and does not count its position', async () => {
    await store.appendReplicated([
      { offset: 0, epoch: '1', key: 'a', value: '1' },
      { offset: 1, epoch: '1', key: 'b', value: '2' },
    ]);
    sut = leader(assignment(['a', 'b']), { ackTimeoutMs: 20 });
    await sut.put('c', '3').catch(() => undefined); // epoch 2 starts at offset 2 (not acked)
    // b has [1, 1, 1(divergent), 1] from a deposed leader of epoch 1.
    expect(fetchFrom('b', 4, '1')).toMatchObject({
      truncateTo: 2,
      divergingEpoch: '1',
      records: [],
    });
    expect(sut.highWatermark).toBe(0);
    expect(() => fetchFrom('z', 0)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  it('wakes a parked fetch at the next append and reads from the fetch offset', async () => {
    sut = leader(assignment(['a', 'b'], ['a', 'b']), { ackTimeoutMs: 100 });
    expect(sut.hasNews(0)).toBe(false);
    const woken = new Promise<void>((resolve) => sut.onNextAppend(resolve));
    void sut.put('k', 'v').catch(() => undefined);
    await woken;
    expect(sut.hasNews(0)).toBe(true);
    const reply = await sut.readFrom(0, 10, 1_000_000);
    expect(reply).toMatchObject({
      leaderEpoch: '2',
      logEndOffset: 1,
      records: [{ offset: 0, key: 'k' }],
    });
  });
});
