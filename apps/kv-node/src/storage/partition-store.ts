import {
  type FileHandle,
  mkdir,
  open,
  readFile,
  rmdir,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isToken, TesseraError } from '@tessera/contracts';
import { LeaderEpochCache, fsyncDir } from '@tessera/node-agent';

/** One line of a partition log. */
export interface LogRecord {
  offset: number;
  /** Leader epoch the write was accepted under (decimal string). */
  epoch: string;
  key: string;
  value: string;
}

export interface StoredValue {
  value: string;
  offset: number;
  epoch: string;
}

/** What opening a log found: how many records, and how many torn bytes it cut off the tail. */
export interface RecoveryInfo {
  records: number;
  truncatedBytes: number;
}

/** The log is damaged before its tail: refusing to serve beats serving a hole. */
export class CorruptLogError extends Error {
  override readonly name = 'CorruptLogError';
}

interface PendingBatch {
  records: LogRecord[];
  /** Replicated from a leader (applied to the index at once) or the leader's own (held until committed). */
  replicated: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface RecentRecord {
  record: LogRecord;
  bytes: number;
}

const NEWLINE = 0x0a;
const EPOCH = /^[0-9]{1,19}$/;
/** Recently written records kept in memory, so followers fetching the tail never touch the disk. */
const RECENT_MAX_RECORDS = 4_096;
const RECENT_MAX_BYTES = 8 * 1024 * 1024;

function parseRecord(line: Buffer, expectedOffset: number): LogRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  const r = value as Partial<LogRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    r.offset !== expectedOffset ||
    typeof r.epoch !== 'string' ||
    !EPOCH.test(r.epoch) ||
    typeof r.key !== 'string' ||
    typeof r.value !== 'string'
  ) {
    return null;
  }
  return { offset: r.offset, epoch: r.epoch, key: r.key, value: r.value };
}

function lineOf(record: LogRecord): string {
  return (
    JSON.stringify({
      offset: record.offset,
      epoch: record.epoch,
      key: record.key,
      value: record.value,
    }) + '\n'
  );
}

export function partitionLogPath(dataDir: string, resource: string, partition: number): string {
  return join(dataDir, 'data', resource, `${partition}.log`);
}

/**
 * The append-only log of one partition: `<dataDir>/data/<resource>/<partition>.log`, one JSON
 * line per write `{ offset, epoch, key, value }`, an in-memory index (key → value) rebuilt from
 * the log on open, the byte position of every record (to serve fetches from any offset) and the
 * leader epoch cache (where each epoch starts, for divergence checks).
 *
 * Durability: an append resolves only after its lines are written and fdatasync'ed; concurrent
 * appends share one write and one fsync (group commit). `logEndOffset` counts durable records
 * only. A torn last line (a crash mid-append: never acknowledged) is cut off on open; damage
 * anywhere else stops the open.
 *
 * Visibility: the index is what gets read. A follower's replicated records enter it once durable.
 * A leader's own appends are held back (`uncommitted`) until `commitTo(highWatermark)` passes
 * them, so a get never sees a write that is not on every ISR member. Everything in the log when
 * a node becomes leader is in the index; the leader does not serve reads until its high
 * watermark reaches that point (see LeaderReplica), so those records are committed by then.
 */
export class PartitionStore {
  private readonly index = new Map<string, StoredValue>();
  /** The leader's own durable appends not yet committed, in offset order. */
  private uncommitted: LogRecord[] = [];
  /** Offset the next enqueued record gets (includes pending ones). */
  private nextOffset = 0;
  /** Records [0, durableEnd) are written and fsynced. */
  private durableEnd = 0;
  /** positions[i] = byte offset of record i; positions[durableEnd] = durable file size. */
  private positions: number[] = [0];
  private readonly epochCache = new LeaderEpochCache();
  /** Epoch of the last enqueued record (pending included): epochs never go backwards. */
  private lastEnqueuedEpoch: bigint | null = null;
  private recent: RecentRecord[] = [];
  private recentBytes = 0;
  /** One handle per log ('a+': appends go to the end, reads are positional). */
  private handle: FileHandle | null = null;
  /** Directories whose new entries must be made durable before the first write is. */
  private unsyncedDirs: string[] = [];
  private pending: PendingBatch[] = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;
  private closed = false;
  private recovery: RecoveryInfo = { records: 0, truncatedBytes: 0 };

  private constructor(
    readonly resource: string,
    readonly partition: number,
    readonly path: string,
    private readonly dataDir: string,
  ) {}

  static async open(dataDir: string, resource: string, partition: number): Promise<PartitionStore> {
    if (!isToken(resource) || !Number.isSafeInteger(partition) || partition < 0) {
      throw new TesseraError('INVALID', `bad partition ${resource}/${partition}`);
    }
    const store = new PartitionStore(
      resource,
      partition,
      partitionLogPath(dataDir, resource, partition),
      dataDir,
    );
    await store.load();
    return store;
  }

  get info(): RecoveryInfo {
    return this.recovery;
  }

  /** Durable log end offset: the offset after the last record that is on disk. */
  get logEndOffset(): number {
    return this.durableEnd;
  }

  /** Epoch of the last durable record (a follower's `lastFetchedEpoch`), null when empty. */
  get lastEpoch(): bigint | null {
    return this.epochCache.latestEpoch();
  }

  /** Epoch of the first record, null when empty. */
  get firstEpoch(): bigint | null {
    return this.epochCache.entries()[0]?.epoch ?? null;
  }

  /** Where each epoch starts in this log (read-only use). */
  get epochs(): LeaderEpochCache {
    return this.epochCache;
  }

  /** Offset of the first uncommitted own append (= logEndOffset when none is held back). */
  get committedEnd(): number {
    return this.uncommitted.length > 0 ? this.uncommitted[0].offset : this.durableEnd;
  }

  get size(): number {
    return this.index.size;
  }

  /** The visible (committed) value of a key. */
  get(key: string): StoredValue | null {
    return this.index.get(key) ?? null;
  }

  /**
   * A leader's own write; resolves once it is durable. It stays invisible to `get` until
   * `commitTo` passes its offset.
   */
  async append(epoch: string, key: string, value: string): Promise<LogRecord> {
    const record: LogRecord = { offset: this.nextOffset, epoch, key, value };
    await this.enqueue([record], false);
    return record;
  }

  /**
   * Records fetched from the leader, appended with their own offsets and epochs (they must
   * continue this log exactly); resolves once they are durable, and visible.
   */
  async appendReplicated(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.enqueue(
      records.map((r) => ({ offset: r.offset, epoch: r.epoch, key: r.key, value: r.value })),
      true,
    );
  }

  /** Makes the leader's own appends below `highWatermark` visible. */
  commitTo(highWatermark: number): void {
    let n = 0;
    while (n < this.uncommitted.length && this.uncommitted[n].offset < highWatermark) {
      this.apply(this.uncommitted[n]);
      n++;
    }
    if (n > 0) this.uncommitted = this.uncommitted.slice(n);
  }

  /** Makes every durable record visible (leadership ended, or a new epoch starts). */
  commitAll(): void {
    this.commitTo(Number.MAX_SAFE_INTEGER);
  }

  /**
   * Durable records from `from` on: at most `maxRecords`, and no more than `maxBytes` of log
   * lines (but always at least one record when there is one).
   */
  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    const end = Math.min(this.durableEnd, from + Math.max(1, maxRecords));
    if (from < 0 || from >= end) return [];
    const recentBase = this.durableEnd - this.recent.length;
    if (from >= recentBase) {
      const out: LogRecord[] = [];
      let bytes = 0;
      for (let i = from - recentBase; i < this.recent.length && out.length < end - from; i++) {
        const r = this.recent[i];
        if (out.length > 0 && bytes + r.bytes > maxBytes) break;
        bytes += r.bytes;
        out.push(r.record);
      }
      return out;
    }
    // From the disk: find how many whole records fit in the byte budget.
    let last = end;
    if (this.positions[last] - this.positions[from] > maxBytes) {
      let lo = from + 1;
      let hi = end;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (this.positions[mid] - this.positions[from] <= maxBytes) lo = mid;
        else hi = mid - 1;
      }
      last = lo;
    }
    const reader = this.handle;
    if (!reader)
      throw new TesseraError('UNAVAILABLE', `${this.resource}/${this.partition} is closed`);
    const length = this.positions[last] - this.positions[from];
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await reader.read(buffer, 0, length, this.positions[from]);
    if (bytesRead !== length) throw new CorruptLogError(`${this.path}: short read at ${from}`);
    const out: LogRecord[] = [];
    let start = 0;
    for (let offset = from; offset < last; offset++) {
      const stop = this.positions[offset + 1] - this.positions[from] - 1; // the newline
      const record = parseRecord(buffer.subarray(start, stop), offset);
      if (!record) throw new CorruptLogError(`${this.path}: unreadable record at offset ${offset}`);
      out.push(record);
      start = stop + 1;
    }
    return out;
  }

  /**
   * Cuts the log to its first `offset` records, durably (the suffix diverged from the leader's),
   * then rebuilds the index and the epoch cache from what is left.
   */
  async truncate(offset: number): Promise<void> {
    await this.drain();
    if (this.pending.length > 0)
      throw new TesseraError('UNAVAILABLE', 'cannot truncate with appends in flight');
    if (offset >= this.durableEnd) return;
    const target = Math.max(0, offset);
    const bytes = this.positions[target];
    await this.closeHandles();
    await truncate(this.path, bytes);
    const handle = await open(this.path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if ((await stat(this.path)).size !== bytes)
      throw new CorruptLogError(`${this.path}: truncation did not take`);
    await this.load();
  }

  /** Waits until every write accepted so far is durable (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Deletes a partition's log (its store closed first): the node holds no replica of it any
   * more. The deletion is made durable, so a crash cannot bring the old records back, and an
   * emptied resource directory goes too.
   */
  static async destroy(dataDir: string, resource: string, partition: number): Promise<boolean> {
    const path = partitionLogPath(dataDir, resource, partition);
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    await fsyncDir(dirname(path));
    await rmdir(dirname(path)).then(
      () => fsyncDir(join(dataDir, 'data')),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'ENOENT') throw error;
      },
    );
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    await this.closeHandles();
  }

  private async closeHandles(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private enqueue(records: LogRecord[], replicated: boolean): Promise<void> {
    const where = `${this.resource}/${this.partition}`;
    if (this.closed) return Promise.reject(new TesseraError('UNAVAILABLE', `${where} is closed`));
    if (this.failure !== null) {
      return Promise.reject(new TesseraError('UNAVAILABLE', `${where} log failed; restart needed`));
    }
    let epoch = this.lastEnqueuedEpoch;
    for (const [i, r] of records.entries()) {
      if (r.offset !== this.nextOffset + i)
        return Promise.reject(
          new TesseraError(
            'INVALID',
            `${where}: record offset ${r.offset}, expected ${this.nextOffset + i}`,
          ),
        );
      if (!EPOCH.test(r.epoch))
        return Promise.reject(new TesseraError('INVALID', `${where}: bad epoch "${r.epoch}"`));
      const e = BigInt(r.epoch);
      // Epochs never go back along a log: the epoch cache (and divergence checks) rely on it.
      if (epoch !== null && e < epoch)
        return Promise.reject(
          new TesseraError('STALE_EPOCH', `${where}: epoch ${r.epoch} after epoch ${epoch}`),
        );
      epoch = e;
    }
    this.lastEnqueuedEpoch = epoch;
    this.nextOffset += records.length;
    const done = new Promise<void>((resolve, reject) =>
      this.pending.push({ records, replicated, resolve, reject }),
    );
    // Started on a later tick so `flushing` is set before the flush can finish.
    this.flushing ??= Promise.resolve().then(() => this.flush());
    return done;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const handle = this.handle;
        const lines: string[] = [];
        for (const b of batch) for (const r of b.records) lines.push(lineOf(r));
        try {
          if (!handle) throw new Error('log is not open');
          await handle.appendFile(lines.join(''), 'utf8');
          await handle.datasync();
          // A new log's name (and new directories) must be durable before its first record is.
          while (this.unsyncedDirs.length > 0) {
            await fsyncDir(this.unsyncedDirs[0]);
            this.unsyncedDirs.shift();
          }
        } catch (error) {
          // The tail may now hold a partial line: stop writing; the next open cuts it off.
          this.failure = error;
          const failed = [...batch, ...this.pending];
          this.pending = [];
          for (const p of failed)
            p.reject(
              new TesseraError(
                'UNAVAILABLE',
                `write to ${this.resource}/${this.partition} failed`,
                { cause: error },
              ),
            );
          return;
        }
        let line = 0;
        for (const b of batch) {
          for (const r of b.records)
            this.recordDurable(r, Buffer.byteLength(lines[line++]), b.replicated);
          b.resolve();
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private recordDurable(record: LogRecord, bytes: number, visible: boolean): void {
    this.positions.push(this.positions[this.durableEnd] + bytes);
    this.durableEnd = record.offset + 1;
    this.epochCache.assign(BigInt(record.epoch), record.offset);
    this.recent.push({ record, bytes });
    this.recentBytes += bytes;
    if (this.recent.length > RECENT_MAX_RECORDS || this.recentBytes > RECENT_MAX_BYTES) {
      let drop = 0;
      while (
        drop < this.recent.length - 1 &&
        (this.recent.length - drop > RECENT_MAX_RECORDS / 2 ||
          this.recentBytes > RECENT_MAX_BYTES / 2)
      ) {
        this.recentBytes -= this.recent[drop].bytes;
        drop++;
      }
      this.recent = this.recent.slice(drop);
    }
    if (visible) this.apply(record);
    else this.uncommitted.push(record);
  }

  private apply(record: LogRecord): void {
    this.index.set(record.key, { value: record.value, offset: record.offset, epoch: record.epoch });
  }

  /** (Re)builds everything from the file: index, positions, epochs. */
  private async load(): Promise<void> {
    this.index.clear();
    this.uncommitted = [];
    this.positions = [0];
    this.epochCache.clear();
    this.recent = [];
    this.recentBytes = 0;
    this.durableEnd = 0;
    this.nextOffset = 0;
    this.lastEnqueuedEpoch = null;
    const dir = join(this.dataDir, 'data', this.resource);
    // The log's name and the directories holding it are made durable with the first write after
    // an open, not at the open: an empty log lost in a crash is the same empty log, and a log a
    // crashed process created may never have had its name synced. Opening stays cheap.
    this.unsyncedDirs = [dir, join(this.dataDir, 'data'), this.dataDir];
    let buffer: Buffer | null = null;
    try {
      buffer = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (buffer === null) {
      await mkdir(dir, { recursive: true });
      this.handle = await open(this.path, 'a+');
      return;
    }
    const validBytes = this.replay(buffer);
    if (validBytes < buffer.length) {
      await truncate(this.path, validBytes);
      this.recovery = { ...this.recovery, truncatedBytes: buffer.length - validBytes };
    }
    this.handle = await open(this.path, 'a+');
    if (validBytes < buffer.length) {
      await this.handle.sync();
      if ((await stat(this.path)).size !== validBytes)
        throw new CorruptLogError(`${this.path}: truncation did not take`);
    }
  }

  /** Rebuilds the index, positions and epoch cache; returns the length of the intact prefix. */
  private replay(buffer: Buffer): number {
    let start = 0;
    let records = 0;
    while (start < buffer.length) {
      const end = buffer.indexOf(NEWLINE, start);
      // No newline: the last append was cut short. It was never acknowledged; drop it.
      if (end === -1) break;
      const record = parseRecord(buffer.subarray(start, end), records);
      let epoch: bigint | null = null;
      if (record) {
        epoch = BigInt(record.epoch);
        const latest = this.epochCache.latestEpoch();
        if (latest !== null && epoch < latest) epoch = null; // an epoch going back: damage
      }
      if (!record || epoch === null) {
        if (end + 1 === buffer.length) break; // a damaged last line: same as torn
        throw new CorruptLogError(
          `${this.path}: bad record at byte ${start} (offset ${records}) before the tail`,
        );
      }
      this.apply(record);
      this.epochCache.assign(epoch, record.offset);
      records++;
      start = end + 1;
      this.positions.push(start);
    }
    this.durableEnd = records;
    this.nextOffset = records;
    this.lastEnqueuedEpoch = this.epochCache.latestEpoch();
    this.recovery = { records, truncatedBytes: 0 };
    return start;
  }
}
