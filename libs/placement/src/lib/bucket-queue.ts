/**
 * Items 0..n-1 keyed by a small non-negative integer, iterated from the highest key down.
 * Keys move by ±1 in O(1). Inside a bucket, items are FIFO and a re-keyed item goes to the tail,
 * so equal-key items are taken in turn (round-robin): that spreads each node's partitions over
 * many peers instead of clustering them.
 */
export class BucketQueue {
  private readonly keys: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private heads: Int32Array;
  private tails: Int32Array;
  private top = 0;

  constructor(initialKeys: ArrayLike<number>) {
    const n = initialKeys.length;
    this.keys = new Int32Array(n);
    this.next = new Int32Array(n).fill(-1);
    this.prev = new Int32Array(n).fill(-1);
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, initialKeys[i]!);
    this.heads = new Int32Array(max + 2).fill(-1);
    this.tails = new Int32Array(max + 2).fill(-1);
    for (let i = 0; i < n; i++) {
      this.keys[i] = Math.max(0, initialKeys[i]!);
      this.link(i);
    }
  }

  key(item: number): number {
    return this.keys[item]!;
  }

  /** Highest key held by any item (0 when all are empty). */
  maxKey(): number {
    while (this.top > 0 && this.heads[this.top] === -1) this.top--;
    return this.top;
  }

  /** Calls `visit` on items with key ≥ 1, highest key first; stops when it returns true. */
  find(visit: (item: number) => boolean): number {
    for (let k = this.maxKey(); k >= 1; k--) {
      for (let i = this.heads[k]!; i !== -1; i = this.next[i]!) {
        if (visit(i)) return i;
      }
    }
    return -1;
  }

  set(item: number, key: number): void {
    const k = Math.max(0, key);
    if (k === this.keys[item]) return;
    this.unlink(item);
    this.keys[item] = k;
    this.link(item);
  }

  private link(i: number): void {
    const k = this.keys[i]!;
    if (k >= this.heads.length) this.grow(k);
    const tail = this.tails[k]!;
    this.prev[i] = tail;
    this.next[i] = -1;
    if (tail === -1) this.heads[k] = i;
    else this.next[tail] = i;
    this.tails[k] = i;
    if (k > this.top) this.top = k;
  }

  private unlink(i: number): void {
    const k = this.keys[i]!;
    const p = this.prev[i]!;
    const nx = this.next[i]!;
    if (p === -1) this.heads[k] = nx;
    else this.next[p] = nx;
    if (nx === -1) this.tails[k] = p;
    else this.prev[nx] = p;
  }

  private grow(k: number): void {
    const size = Math.max(k + 1, this.heads.length * 2);
    const heads = new Int32Array(size).fill(-1);
    const tails = new Int32Array(size).fill(-1);
    heads.set(this.heads);
    tails.set(this.tails);
    this.heads = heads;
    this.tails = tails;
  }
}
