/**
 * Items 0..n-1 keyed by a small non-negative integer, iterated from the highest key down.
 * Keys change in O(1). A re-keyed item joins its new bucket at the head or the tail, chosen by a
 * seeded xorshift generator: equal-key items are then taken in a scrambled but reproducible order.
 * Plain FIFO order would make the planner cycle through domains in a fixed pattern (z0 z1 z2,
 * z3 z4 z5, …), so each node would share partitions with very few peers, recovery after a loss
 * would lean on those few, and the holes a lost node leaves could only go to a few zones.
 */
export class BucketQueue {
  private readonly keys: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private heads: Int32Array;
  private tails: Int32Array;
  private top = 0;
  private seed: number;
  /** One bit per non-empty bucket, so iteration skips runs of empty buckets 32 at a time. */
  private bits: Uint32Array;

  constructor(initialKeys: ArrayLike<number>, seed = 0x9e3779b9) {
    this.seed = seed | 0 || 1;
    const n = initialKeys.length;
    this.keys = new Int32Array(n);
    this.next = new Int32Array(n).fill(-1);
    this.prev = new Int32Array(n).fill(-1);
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, initialKeys[i]);
    this.heads = new Int32Array(max + 2).fill(-1);
    this.tails = new Int32Array(max + 2).fill(-1);
    this.bits = new Uint32Array(((max + 2) >> 5) + 1);
    for (let i = 0; i < n; i++) {
      this.keys[i] = Math.max(0, initialKeys[i]);
      this.link(i);
    }
  }

  key(item: number): number {
    return this.keys[item];
  }

  /** Highest key held by any item (0 when all are empty). */
  maxKey(): number {
    while (this.top > 0 && this.heads[this.top] === -1) this.top--;
    return this.top;
  }

  /** Calls `visit` on items with key ≥ 1, highest key first; stops when it returns true. */
  find(visit: (item: number) => boolean): number {
    for (let k = this.maxKey(); k >= 1; k = this.nonEmptyAtOrBelow(k - 1)) {
      for (let i = this.heads[k]; i !== -1; i = this.next[i]) {
        if (visit(i)) return i;
      }
    }
    return -1;
  }

  /** Highest non-empty bucket ≤ k, or -1. */
  private nonEmptyAtOrBelow(k: number): number {
    if (k < 0) return -1;
    let w = k >> 5;
    const b = k & 31;
    let word = this.bits[w] & (b === 31 ? 0xffffffff : (1 << (b + 1)) - 1);
    while (word === 0) {
      if (--w < 0) return -1;
      word = this.bits[w];
    }
    return (w << 5) + 31 - Math.clz32(word);
  }

  set(item: number, key: number): void {
    const k = Math.max(0, key);
    if (k === this.keys[item]) return;
    this.unlink(item);
    this.keys[item] = k;
    this.link(item);
  }

  private link(i: number): void {
    const k = this.keys[i];
    if (k >= this.heads.length) this.grow(k);
    if (k > this.top) this.top = k;
    this.bits[k >> 5] |= 1 << (k & 31);
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    if ((x & 1) === 0 || this.heads[k] === -1) {
      const tail = this.tails[k];
      this.prev[i] = tail;
      this.next[i] = -1;
      if (tail === -1) this.heads[k] = i;
      else this.next[tail] = i;
      this.tails[k] = i;
    } else {
      const head = this.heads[k];
      this.next[i] = head;
      this.prev[i] = -1;
      this.prev[head] = i;
      this.heads[k] = i;
    }
  }

  private unlink(i: number): void {
    const k = this.keys[i];
    const p = this.prev[i];
    const nx = this.next[i];
    if (p === -1) this.heads[k] = nx;
    else this.next[p] = nx;
    if (nx === -1) this.tails[k] = p;
    else this.prev[nx] = p;
    if (this.heads[k] === -1) this.bits[k >> 5] &= ~(1 << (k & 31));
  }

  private grow(k: number): void {
    const size = Math.max(k + 1, this.heads.length * 2);
    const heads = new Int32Array(size).fill(-1);
    const tails = new Int32Array(size).fill(-1);
    heads.set(this.heads);
    tails.set(this.tails);
    this.heads = heads;
    this.tails = tails;
    const bits = new Uint32Array((size >> 5) + 1);
    bits.set(this.bits);
    this.bits = bits;
  }
}
