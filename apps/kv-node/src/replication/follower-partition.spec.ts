import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReplicaFetchPartitionReplyV1, type RoleAssignmentV1 } from '@tessera/contracts';
import { PartitionStore } from '../storage/partition-store';
import {
  FollowerPartition,
  type FollowerLogger,
  REFUSALS_BEFORE_RECONCILE,
  refusalBackoffMs,
} from './follower-partition';

const quiet = (): void => undefined;
const logger: FollowerLogger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

const assignment = (isr: string[]): RoleAssignmentV1 => ({
  resource: 'orders',
  partition: 0,
  partitionCount: 1,
  role: 'FOLLOWER',
  leader: 'a',
  leaderEpoch: '2',
  isr,
  replicas: ['a', 'b', 'c'],
});

describe(FollowerPartition.name, () => {
  let dir: string;
  let store: PartitionStore;
  let caughtUp: number;
  let sut: FollowerPartition;

  /** The leader's answer with the next record, its log end right after it. */
  const next = (): ReplicaFetchPartitionReplyV1 => {
    const offset = store.logEndOffset;
    return {
      resource: 'orders',
      partition: 0,
      ok: true,
      leaderEpoch: '2',
      highWatermark: offset + 1,
      logEndOffset: offset + 1,
      records: [{ offset, epoch: '2', key: `k${offset}`, value: 'v' }],
    };
  };
  const fetchOnce = () => sut.handle(next(), store.logEndOffset);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-follower-'));
    store = await PartitionStore.open(dir, 'orders', 0);
    caughtUp = 0;
    sut = new FollowerPartition(assignment(['a', 'c']), {
      nodeId: 'b',
      onStaleRole: quiet,
      onCaughtUp: () => caughtUp++,
      logger,
      retryMs: 50,
      now: () => performance.now(),
    });
    sut.attach(store);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for a report at every catch-up while out of the ISR, and stops once in it', async () => {
    await fetchOnce();
    await fetchOnce();
    await fetchOnce();
    expect({ logEnd: store.logEndOffset, caughtUp }).toEqual({ logEnd: 3, caughtUp: 3 });

    sut.update(assignment(['a', 'c', 'b']));
    await fetchOnce();
    await fetchOnce();
    expect({ logEnd: store.logEndOffset, caughtUp }).toEqual({ logEnd: 5, caughtUp: 3 });

    // Out again (shrunk): the next catch-up reports at once.
    sut.update(assignment(['a', 'c']));
    await fetchOnce();
    expect(caughtUp).toBe(4);
  });

  it('does not ask while still behind the leader', async () => {
    await sut.handle({ ...next(), logEndOffset: 10, highWatermark: 10 }, 0);
    expect({ logEnd: store.logEndOffset, caughtUp }).toEqual({ logEnd: 1, caughtUp: 0 });
  });

  it('backs off while the leader keeps refusing, and fetches at the usual pace once answered', async () => {
    let now = 1_000;
    let staleRoles = 0;
    sut = new FollowerPartition(assignment(['a', 'c']), {
      nodeId: 'b',
      onStaleRole: () => staleRoles++,
      onCaughtUp: quiet,
      logger,
      retryMs: 50,
      now: () => now,
    });
    sut.attach(store);
    const refusal: ReplicaFetchPartitionReplyV1 = {
      resource: 'orders',
      partition: 0,
      ok: false,
      code: 'NOT_LEADER',
      message: 'orders/0: leadership is being set up',
    };
    const pauses: number[] = [];
    for (let i = 0; i < 7; i++) {
      await sut.handle(refusal, store.logEndOffset);
      pauses.push(sut.retryingAt - now);
      expect(sut.eligible(now)).toBe(false);
      now = sut.retryingAt;
      expect(sut.eligible(now)).toBe(true);
    }
    expect(pauses).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
    // Refused long enough: it asks whether its role is still right.
    expect(staleRoles).toBe(Math.floor(7 / REFUSALS_BEFORE_RECONCILE));

    await fetchOnce();
    expect(store.logEndOffset).toBe(1);
    await sut.handle(refusal, store.logEndOffset);
    expect(sut.retryingAt - now).toBe(50);
  });
});

describe(refusalBackoffMs.name, () => {
  it('doubles from the retry pause up to its ceiling, and never goes below the retry pause', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => refusalBackoffMs(100, n))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
    expect(refusalBackoffMs(2_000, 3)).toBe(2_000);
    expect(refusalBackoffMs(100, 0)).toBe(100);
  });
});
