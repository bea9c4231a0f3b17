import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReplicaFetchPartitionReplyV1, type RoleAssignmentV1 } from '@tessera/contracts';
import { PartitionStore } from '../storage/partition-store';
import { FollowerPartition, type FollowerLogger } from './follower-partition';

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
});
