import fc from 'fast-check';
import { partitionForKey } from './partitioner';

describe(partitionForKey.name, () => {
  it('follows murmur3_x86_32 with seed 0 on published vectors', () => {
    // hash('hello') = 0x248bfa47 = 613153351; hash('The quick brown fox jumps over the lazy dog') = 0x2e4ff723
    expect(partitionForKey('hello', 2 ** 32 - 1)).toBe(0x248bfa47);
    expect(partitionForKey('The quick brown fox jumps over the lazy dog', 2 ** 32 - 1)).toBe(0x2e4ff723);
    expect(partitionForKey('hello', 1000)).toBe(0x248bfa47 % 1000);
  });

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    // 'é' is the bytes c3 a9 in UTF-8; hashing them as the two Latin-1 chars Ã© must differ.
    const asUtf8 = partitionForKey('é', 2 ** 32 - 1);
    const asLatin1 = partitionForKey('\u00c3\u00a9', 2 ** 32 - 1);
    expect(asUtf8).not.toBe(asLatin1);
  });

  it('maps every key into [0, partitionCount)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 100_000 }), (key, count) => {
        const p = partitionForKey(key, count);
        expect(Number.isInteger(p) && p >= 0 && p < count).toBe(true);
      }),
    );
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
    expect(() => partitionForKey('k', 1.5)).toThrow(RangeError);
  });
});
