import { GroupCommit, type Queued } from './group-commit';

interface Req {
  key: string;
  n: number;
}

/** A commit that holds each batch until released, answering each request with its n. */
function heldCommits() {
  const batches: Req[][] = [];
  const releases: (() => void)[] = [];
  const commit = (batch: Queued<Req, number>[]): Promise<void> => {
    batches.push(batch.map((q) => q.req));
    return new Promise<void>((resolve) => {
      releases.push(() => {
        for (const q of batch) q.resolve(q.req.n);
        resolve();
      });
    });
  };
  const releaseNext = async (): Promise<void> => {
    for (let i = 0; i < 10 && releases.length === 0; i++) await new Promise((r) => setImmediate(r));
    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, commit, releaseNext };
}

/** The object under test, keyed by `key`. */
function groupCommit(
  maxBatch: number,
  commit: (batch: Queued<Req, number>[]) => Promise<void>,
): GroupCommit<Req, number> {
  return new GroupCommit<Req, number>({ keyOf: (r) => r.key, maxBatch, commit });
}

describe(GroupCommit.name, () => {
  it('commits requests of the same turn together, and whatever arrives meanwhile in the next batch', async () => {
    const held = heldCommits();
    const sut = groupCommit(100, held.commit);

    const answers = [1, 2, 3].map((n) => sut.submit({ key: `p${n}`, n }));
    await new Promise((r) => setImmediate(r));
    answers.push(sut.submit({ key: 'p4', n: 4 }), sut.submit({ key: 'p5', n: 5 }));
    await held.releaseNext();
    await held.releaseNext();

    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4, 5]);
    expect(held.batches.map((b) => b.map((r) => r.n))).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('never puts two requests of one key in a batch, and keeps the batch size bound, in arrival order', async () => {
    const held = heldCommits();
    const sut = groupCommit(2, held.commit);

    const answers = [
      sut.submit({ key: 'a', n: 1 }),
      sut.submit({ key: 'a', n: 2 }),
      sut.submit({ key: 'b', n: 3 }),
      sut.submit({ key: 'c', n: 4 }),
    ];
    for (let i = 0; i < 3; i++) await held.releaseNext();

    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4]);
    expect(held.batches.map((b) => b.map((r) => r.n))).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('fails every unanswered request of a batch whose commit throws, and goes on with the next', async () => {
    const sut = groupCommit(10, async (batch) => {
      await Promise.resolve();
      if (batch.some((q) => q.req.key === 'boom')) {
        batch[0]?.resolve(-1); // answered before the failure: keeps its answer
        throw new Error('the database went away');
      }
      for (const q of batch) q.resolve(q.req.n);
    });

    const settled = Promise.allSettled([
      sut.submit({ key: 'boom', n: 1 }),
      sut.submit({ key: 'c', n: 2 }),
    ]);

    expect(await settled).toEqual([
      { status: 'fulfilled', value: -1 },
      { status: 'rejected', reason: new Error('the database went away') },
    ]);
    expect(await sut.submit({ key: 'd', n: 4 })).toBe(4);
  });
});
