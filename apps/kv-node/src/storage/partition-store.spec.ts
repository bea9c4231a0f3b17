import 'reflect-metadata';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptLogError, PartitionStore, partitionLogPath } from './partition-store';

describe(PartitionStore.name, () => {
  let dir: string;
  let sut: PartitionStore | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-kv-'));
  });

  afterEach(async () => {
    await sut?.close();
    sut = null;
    rmSync(dir, { recursive: true, force: true });
  });

  function lines(): string[] {
    return readFileSync(partitionLogPath(dir, 'orders', 0), 'utf8').split('\n');
  }

  it('appends JSON lines with consecutive offsets and serves the latest value', async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect(await sut.append('2', 'a', '1')).toEqual({
      offset: 0,
      epoch: '2',
      key: 'a',
      value: '1',
    });
    expect((await sut.append('2', 'b', '2')).offset).toBe(1);
    expect((await sut.append('3', 'a', '3')).offset).toBe(2);
    sut.commitAll();
    expect(sut.get('a')).toEqual({ value: '3', offset: 2, epoch: '3' });
    expect(sut.get('missing')).toBeNull();
    expect(sut.logEndOffset).toBe(3);
    expect(lines()).toEqual([
      '{"offset":0,"epoch":"2","key":"a","value":"1"}',
      '{"offset":1,"epoch":"2","key":"b","value":"2"}',
      '{"offset":2,"epoch":"3","key":"a","value":"3"}',
      '',
    ]);
  });

  it('keeps its data across a reopen', async () => {
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.append('2', 'a', 'x');
    await first.append('2', 'a', 'y');
    await first.append('2', 'é', 'multi\nline "quoted"');
    await first.close();
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect(sut.get('a')?.value).toBe('y');
    expect(sut.get('é')?.value).toBe('multi\nline "quoted"');
    expect(sut.info).toEqual({ records: 3, truncatedBytes: 0 });
    expect((await sut.append('2', 'b', 'z')).offset).toBe(3);
  });

  it('destroys a log for good: the next open starts empty, other partitions untouched', async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    await sut.append('2', 'a', '1');
    const other = await PartitionStore.open(dir, 'orders', 1);
    await other.append('2', 'b', '2');
    await other.close();
    await sut.close();

    expect(await PartitionStore.destroy(dir, 'orders', 0)).toBe(true);
    expect(existsSync(partitionLogPath(dir, 'orders', 0))).toBe(false);
    expect(await PartitionStore.destroy(dir, 'orders', 0)).toBe(false); // already gone
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect([sut.logEndOffset, sut.get('a')]).toEqual([0, null]);
    await sut.close();
    sut = null;
    expect(statSync(partitionLogPath(dir, 'orders', 1)).size).toBeGreaterThan(0);

    // The last log of a resource takes its directory with it.
    await PartitionStore.destroy(dir, 'orders', 0);
    await PartitionStore.destroy(dir, 'orders', 1);
    expect(existsSync(join(dir, 'data', 'orders'))).toBe(false);
  });

  it('cuts off a torn last line and carries on from the intact prefix', async () => {
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.append('2', 'a', '1');
    await first.append('2', 'b', '2');
    await first.close();
    const path = partitionLogPath(dir, 'orders', 0);
    const intact = statSync(path).size;
    appendFileSync(path, '{"offset":2,"epoch":"2","key":"c","val');
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect(sut.info).toEqual({ records: 2, truncatedBytes: 38 });
    expect(statSync(path).size).toBe(intact);
    expect(sut.get('c')).toBeNull();
    expect((await sut.append('2', 'c', '3')).offset).toBe(2);
    expect(lines().slice(-2)).toEqual(['{"offset":2,"epoch":"2","key":"c","value":"3"}', '']);
  });

  it('treats a complete but unterminated last record as torn (it was never acknowledged)', async () => {
    const path = partitionLogPath(dir, 'orders', 0);
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.append('2', 'a', '1');
    await first.close();
    appendFileSync(path, '{"offset":1,"epoch":"2","key":"b","value":"2"}');
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect(sut.get('b')).toBeNull();
    expect(sut.logEndOffset).toBe(1);
  });

  it('refuses a log damaged before its tail', async () => {
    const path = partitionLogPath(dir, 'orders', 0);
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.append('2', 'a', '1');
    await first.close();
    writeFileSync(path, 'garbage\n' + readFileSync(path, 'utf8'));
    await expect(PartitionStore.open(dir, 'orders', 0)).rejects.toThrow(CorruptLogError);
  });

  it('refuses a gap in the offsets', async () => {
    const path = partitionLogPath(dir, 'orders', 0);
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.close();
    writeFileSync(
      path,
      '{"offset":0,"epoch":"1","key":"a","value":"1"}\n{"offset":2,"epoch":"1","key":"b","value":"2"}\n{"offset":3,"epoch":"1","key":"c","value":"3"}\n',
    );
    await expect(PartitionStore.open(dir, 'orders', 0)).rejects.toThrow(CorruptLogError);
  });

  it('gives concurrent appends distinct, ordered offsets and makes them all durable', async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    const store = sut;
    const records = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.append('1', `k${i}`, `v${i}`)),
    );
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await sut.close();
    sut = await PartitionStore.open(dir, 'orders', 0);
    expect(sut.size).toBe(50);
    expect(sut.get('k49')?.value).toBe('v49');
  });

  it('refuses names that would escape the data directory', async () => {
    await expect(PartitionStore.open(dir, '../etc', 0)).rejects.toThrow();
    await expect(PartitionStore.open(dir, 'orders', -1)).rejects.toThrow();
  });

  it("keeps a leader's own writes invisible until the high watermark passes them", async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    await sut.append('1', 'a', 'old');
    sut.commitTo(1);
    await sut.append('1', 'a', 'new');
    await sut.append('1', 'b', 'x');
    expect(sut.logEndOffset).toBe(3);
    expect(sut.committedEnd).toBe(1);
    expect(sut.get('a')?.value).toBe('old');
    expect(sut.get('b')).toBeNull();
    sut.commitTo(2);
    expect(sut.get('a')?.value).toBe('new');
    expect(sut.get('b')).toBeNull();
    sut.commitAll();
    expect(sut.get('b')?.value).toBe('x');
  });

  it('appends replicated records with their offsets and epochs, visible once durable', async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    await sut.appendReplicated([
      { offset: 0, epoch: '1', key: 'a', value: '1' },
      { offset: 1, epoch: '3', key: 'b', value: '2' },
    ]);
    expect(sut.get('b')?.value).toBe('2');
    expect(sut.lastEpoch).toBe(3n);
    expect(sut.epochs.entries()).toEqual([
      { epoch: 1n, startOffset: 0 },
      { epoch: 3n, startOffset: 1 },
    ]);
    await expect(
      sut.appendReplicated([{ offset: 5, epoch: '3', key: 'c', value: '3' }]),
    ).rejects.toMatchObject({ code: 'INVALID' });
    await expect(
      sut.appendReplicated([{ offset: 2, epoch: '2', key: 'c', value: '3' }]),
    ).rejects.toMatchObject({ code: 'STALE_EPOCH' });
    expect(sut.logEndOffset).toBe(2);
  });

  it('reads records from memory and from disk alike, within the byte budget', async () => {
    const first = await PartitionStore.open(dir, 'orders', 0);
    for (let i = 0; i < 20; i++) await first.append(i < 10 ? '1' : '2', `k${i}`, 'v'.repeat(i));
    const fromMemory = await first.read(5, 4, 1_000_000);
    await first.close();
    sut = await PartitionStore.open(dir, 'orders', 0); // a reopened log has nothing in memory
    const fromDisk = await sut.read(5, 4, 1_000_000);
    expect(fromDisk).toEqual(fromMemory);
    expect(fromDisk.map((r) => [r.offset, r.epoch, r.key])).toEqual([
      [5, '1', 'k5'],
      [6, '1', 'k6'],
      [7, '1', 'k7'],
      [8, '1', 'k8'],
    ]);
    // A budget smaller than one record still returns one, and never more than fit.
    expect((await sut.read(0, 10, 1)).map((r) => r.offset)).toEqual([0]);
    const line = (i: number) =>
      JSON.stringify({ offset: i, epoch: '1', key: `k${i}`, value: 'v'.repeat(i) }).length + 1;
    expect(await sut.read(0, 10, line(0) + line(1) + line(2))).toHaveLength(3);
    expect(await sut.read(20, 10, 1_000)).toEqual([]);
    expect(sut.epochs.entries()).toEqual([
      { epoch: 1n, startOffset: 0 },
      { epoch: 2n, startOffset: 10 },
    ]);
  });

  it('truncates a divergent suffix durably and rebuilds the index and epochs', async () => {
    sut = await PartitionStore.open(dir, 'orders', 0);
    await sut.appendReplicated([
      { offset: 0, epoch: '1', key: 'a', value: 'kept' },
      { offset: 1, epoch: '1', key: 'b', value: 'kept' },
      { offset: 2, epoch: '3', key: 'a', value: 'divergent' },
      { offset: 3, epoch: '3', key: 'c', value: 'divergent' },
    ]);
    await sut.truncate(2);
    expect(sut.logEndOffset).toBe(2);
    expect(sut.get('a')?.value).toBe('kept');
    expect(sut.get('c')).toBeNull();
    expect(sut.lastEpoch).toBe(1n);
    await sut.appendReplicated([{ offset: 2, epoch: '2', key: 'd', value: 'new' }]);
    await sut.close();
    sut = await PartitionStore.open(dir, 'orders', 0);
    const values = lines()
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { value: string }).value);
    expect(values).toEqual(['kept', 'kept', 'new']);
    expect(sut.epochs.entries()).toEqual([
      { epoch: 1n, startOffset: 0 },
      { epoch: 2n, startOffset: 2 },
    ]);
  });

  it('refuses a log whose epochs go backwards before the tail', async () => {
    const first = await PartitionStore.open(dir, 'orders', 0);
    await first.close();
    writeFileSync(
      partitionLogPath(dir, 'orders', 0),
      [
        '{"offset":0,"epoch":"3","key":"a","value":"1"}',
        '{"offset":1,"epoch":"2","key":"b","value":"2"}',
        '{"offset":2,"epoch":"3","key":"c","value":"3"}',
        '',
      ].join('\n'),
    );
    await expect(PartitionStore.open(dir, 'orders', 0)).rejects.toThrow(CorruptLogError);
  });
});
