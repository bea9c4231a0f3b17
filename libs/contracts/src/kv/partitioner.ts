import { x86 } from 'murmurhash3js-revisited';

const utf8 = new TextEncoder();

/** Key → partition, as API.md fixes it: murmur3_x86_32(utf8(key), seed 0) mod partitionCount. */
export function partitionForKey(key: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  // hash32 returns the unsigned 32-bit value.
  return x86.hash32(utf8.encode(key), 0) % partitionCount;
}
