import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PinoLogger } from 'nestjs-pino';
import { type KvNodeConfig } from '../config/kv-config';
import { PartitionStore, partitionLogPath } from './partition-store';
import { StoreRegistry } from './store-registry.service';

describe(StoreRegistry.name, () => {
  let dir: string;
  let sut: StoreRegistry;
  let warnings: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-kv-registry-'));
    warnings = [];
    const logger = {
      setContext: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_: object, msg: string) => warnings.push(msg),
    };
    sut = new StoreRegistry(
      { nodeId: 'n1', dataDir: dir } as KvNodeConfig,
      { dir, release: () => undefined },
      logger as unknown as PinoLogger,
    );
  });

  afterEach(async () => {
    await sut.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A log left on disk with records of epochs 2 and 3 (as a deleted `orders` left it). */
  async function leftBehind(): Promise<void> {
    const old = await PartitionStore.open(dir, 'orders', 0);
    await old.append('2', 'a', 'old-a');
    await old.append('3', 'b', 'old-b');
    old.commitAll();
    await old.close();
  }

  it('deletes a log older than the partition and opens it empty', async () => {
    await leftBehind();
    const store = await sut.get('orders', 0, '4');
    expect(store.logEndOffset).toBe(0);
    expect(store.get('a')).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/predates the partition/)]);
    // The new partition's records go to a fresh file, not after the old ones.
    await store.append('4', 'a', 'new-a');
    expect(readFileSync(partitionLogPath(dir, 'orders', 0), 'utf8')).not.toMatch(/old-a/);
  });

  it('keeps a log whose records are of the partition’s epochs, or when the epoch is unknown', async () => {
    await leftBehind();
    expect((await sut.get('orders', 0, '2')).get('a')?.value).toBe('old-a');
    expect((await sut.get('orders', 0)).get('b')?.value).toBe('old-b');
    expect((await sut.get('orders', 0, null)).logEndOffset).toBe(2);
    expect(warnings).toEqual([]);
  });

  it('checks a store already open, and hands every caller the one replacement', async () => {
    await leftBehind();
    const stale = await sut.get('orders', 0);
    expect(stale.logEndOffset).toBe(2);
    const [x, y, z] = await Promise.all([
      sut.get('orders', 0, '7'),
      sut.get('orders', 0, '7'),
      sut.get('orders', 0),
    ]);
    expect(x).not.toBe(stale);
    expect(y).toBe(x);
    expect(z).toBe(x);
    expect(x.logEndOffset).toBe(0);
    expect(sut.position('orders', 0)).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it('sweeps the logs of partitions it no longer holds, sparing held, open and foreign files', async () => {
    for (const [resource, partition] of [
      ['orders', 0],
      ['orders', 1],
      ['orders', 2],
      ['gone', 5],
    ] as const) {
      const store = await PartitionStore.open(dir, resource, partition);
      await store.append('1', 'k', 'v');
      await store.close();
    }
    writeFileSync(join(dir, 'data', 'orders', 'notes.txt'), 'not a log');
    await sut.get('orders', 2); // opened by a role that arrived after consensus answered

    const swept = await sut.sweep(new Set(['orders/0']));

    expect(swept.sort()).toEqual(['gone/5', 'orders/1']);
    expect(existsSync(partitionLogPath(dir, 'orders', 0))).toBe(true);
    expect(existsSync(partitionLogPath(dir, 'orders', 1))).toBe(false);
    expect(existsSync(partitionLogPath(dir, 'orders', 2))).toBe(true);
    expect(existsSync(join(dir, 'data', 'gone'))).toBe(false);
    expect(existsSync(join(dir, 'data', 'orders', 'notes.txt'))).toBe(true);
  });

  it('sweeps nothing in a data directory that has no logs yet', async () => {
    expect(await sut.sweep(new Set())).toEqual([]);
  });

  it('deletes the log of a replica taken off the node', async () => {
    await leftBehind();
    await sut.get('orders', 0);
    await sut.remove('orders', 0);
    expect(existsSync(partitionLogPath(dir, 'orders', 0))).toBe(false);
    expect(sut.position('orders', 0)).toBeUndefined();
  });
});
