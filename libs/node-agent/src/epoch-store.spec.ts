import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPOCH_FILE, EpochStore, EpochStoreError } from './epoch-store';

describe(EpochStore.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-epochs-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts empty in a new directory, creating it', async () => {
    const nested = join(dir, 'a', 'b');
    const sut = await EpochStore.open(nested);
    expect(sut.highest('orders', 0)).toBeNull();
    expect(existsSync(nested)).toBe(true);
  });

  it('persists the highest epoch across instances', async () => {
    const first = await EpochStore.open(dir);
    await first.raise([
      { resource: 'orders', partition: 0, epoch: 2n },
      { resource: 'orders', partition: 1, epoch: 7n },
    ]);
    const sut = await EpochStore.open(dir);
    expect(sut.highest('orders', 0)).toBe(2n);
    expect(sut.highest('orders', 1)).toBe(7n);
    expect(sut.highest('users', 0)).toBeNull();
  });

  it('never lowers an epoch and accepts an equal or higher one', async () => {
    const sut = await EpochStore.open(dir);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 5n }]);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 3n }]);
    expect(sut.highest('orders', 0)).toBe(5n);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 5n }]);
    expect(sut.highest('orders', 0)).toBe(5n);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 6n }]);
    expect((await EpochStore.open(dir)).highest('orders', 0)).toBe(6n);
  });

  it('compares epochs as integers, beyond 2^53 and beyond string order', async () => {
    const sut = await EpochStore.open(dir);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 9n }]);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 10n }]);
    expect(sut.highest('orders', 0)).toBe(10n);
    const huge = 9_007_199_254_740_993n; // 2^53 + 1: not representable as a number
    await sut.raise([{ resource: 'big', partition: 0, epoch: huge }]);
    expect((await EpochStore.open(dir)).highest('big', 0)).toBe(huge);
  });

  it('serialises concurrent raises so none is lost', async () => {
    const sut = await EpochStore.open(dir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sut.raise([{ resource: 'orders', partition: i % 4, epoch: BigInt(i + 1) }]),
      ),
    );
    const reopened = await EpochStore.open(dir);
    expect([0, 1, 2, 3].map((p) => reopened.highest('orders', p))).toEqual([17n, 18n, 19n, 20n]);
  });

  it('ignores the temp file a crash before the rename leaves, keeping the last committed state', async () => {
    const first = await EpochStore.open(dir);
    await first.raise([{ resource: 'orders', partition: 0, epoch: 4n }]);
    // A crash mid-write: half a JSON document in the temp file, the real file untouched.
    writeFileSync(join(dir, `${EPOCH_FILE}.tmp`), '{"version":1,"epochs":{"orders/0":"9');
    const sut = await EpochStore.open(dir);
    expect(sut.highest('orders', 0)).toBe(4n);
    expect(readdirSync(dir)).toEqual([EPOCH_FILE]);
  });

  it('keeps the old file and the old fence in memory when a write fails', async () => {
    const sut = await EpochStore.open(dir);
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 4n }]);
    // A directory where the temp file must go makes the write fail like a full disk would.
    mkdirSync(join(dir, `${EPOCH_FILE}.tmp`));
    await expect(sut.raise([{ resource: 'orders', partition: 0, epoch: 8n }])).rejects.toThrow();
    expect(sut.highest('orders', 0)).toBe(4n);
    expect(JSON.parse(readFileSync(join(dir, EPOCH_FILE), 'utf8'))).toEqual({
      version: 1,
      epochs: { 'orders/0': '4' },
    });
    rmSync(join(dir, `${EPOCH_FILE}.tmp`), { recursive: true });
    await sut.raise([{ resource: 'orders', partition: 0, epoch: 8n }]);
    expect((await EpochStore.open(dir)).highest('orders', 0)).toBe(8n);
  });

  it('refuses to start from a damaged file rather than forget its fences', async () => {
    writeFileSync(join(dir, EPOCH_FILE), '{"version":1,"epo');
    await expect(EpochStore.open(dir)).rejects.toThrow(EpochStoreError);
    writeFileSync(
      join(dir, EPOCH_FILE),
      JSON.stringify({ version: 1, epochs: { 'orders/0': '-1' } }),
    );
    await expect(EpochStore.open(dir)).rejects.toThrow(EpochStoreError);
  });
});
