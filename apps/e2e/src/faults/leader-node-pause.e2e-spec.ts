import { waitFor } from '@tessera/testing';
import { type TestCluster } from '../cluster';
import { History } from './history';
import { type KvWriter } from './kv-writer';
import { WrittenFleet } from './written-fleet';

const NODES = [1, 2, 3, 4].map((i) => ({ id: `kv-${i}`, zone: `z${i}`, rack: `r${i}` }));
const RESOURCE = 'orders';
const PARTITIONS = 8;
const PAUSE_MS = 10_000;

/**
 * RELIABILITY S3: SIGSTOP a leader node for 10 s, then SIGCONT (a zombie). A client keeps writing
 * to the partitions throughout and records every reply, however late: no write may be
 * acknowledged with a stale epoch, and on resume the zombie answers NOT_LEADER or nothing.
 */
describe('faults: a leader node frozen for 10 s and resumed (S3)', () => {
  let cluster: TestCluster;
  let writer: KvWriter;
  const history = new History('s3-leader-node-pause');

  let fleet: WrittenFleet;
  const orders = () => fleet.resource();
  const withLogs = (error: unknown): never => fleet.withLogs(error);

  beforeAll(async () => {
    fleet = await WrittenFleet.start('s3', history, {
      nodes: NODES,
      resource: RESOURCE,
      partitions: PARTITIONS,
    });
    ({ cluster, writer } = fleet);
  }, 120_000);

  afterAll(() => fleet?.close(), 60_000);

  it('S3: no write is acknowledged with a stale epoch; on resume the zombie steps down and answers NOT_LEADER or nothing', async () => {
    const before = await orders();
    const zombie = before.partitions[0].leader!;
    const moved = before.partitions.filter((p) => p.leader === zombie);

    const pausedAt = history.fault('SIGSTOP', zombie);
    cluster.pause(zombie);
    const after = await waitFor(
      'new leaders while the zombie is frozen',
      async () => {
        const r = await orders();
        return moved.every((p) => ![null, zombie].includes(r.partitions[p.partition].leader))
          ? r
          : undefined;
      },
      { timeoutMs: PAUSE_MS - 1_000 },
    ).catch(withLogs);
    for (const p of moved) expect(after.partitions[p.partition].epoch).toBe(p.epoch + 1);
    // The new leaders serve while the zombie is still frozen.
    const failedOverAt = Date.now();
    await waitFor(
      'writes acknowledged by the new leaders',
      () => moved.every((p) => writer.acked(p.partition, failedOverAt) > 0),
      {
        timeoutMs: Math.max(1_000, pausedAt + PAUSE_MS - Date.now() - 200),
      },
    ).catch(withLogs);
    // The fault is a 10 s freeze: wait out the rest of it (the scenario's own duration).
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + PAUSE_MS - Date.now())));

    const resumedAt = history.fault('SIGCONT', zombie);
    cluster.resume(zombie);
    // Steps down: it reports itself a follower at the new epoch of every partition it led.
    await fleet.steppedDown(zombie, moved, resumedAt, 15_000);
    // Keep writing a moment after it stepped down, then let every late reply arrive.
    const steppedDownAt = Date.now();
    await waitFor('writes acknowledged after the resume', () =>
      moved.every((p) => writer.acked(p.partition, steppedDownAt) > 0),
    );
    await writer.stop();

    // Every reply the zombie sent after it resumed: an acknowledgement carries the old epoch.
    expect(fleet.staleAcks(moved, resumedAt)).toEqual([]);
    const movedEpoch = new Map(moved.map((p) => [p.partition, p.epoch]));
    // The requests sent while it was frozen reached it (no one else led yet): it had to answer
    // them on resume with a refusal, or not at all.
    const frozenPuts = history
      .of('invoke')
      .filter((i) => i.t >= pausedAt && i.t < resumedAt && movedEpoch.has(i.partition));
    expect(frozenPuts.length).toBeGreaterThan(0);
  });

  it('keeps every checker clean over the whole run (C1–C5)', async () => {
    await fleet.expectClean();
    expect(history.of('ok').length).toBeGreaterThan(100);
    expect(history.of('grant').length).toBeGreaterThan(PARTITIONS);
  });
});
