import 'reflect-metadata';
import {
  appendFileSync,
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
});
