import { type FileHandle, mkdir, open, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { isToken, TesseraError } from '@tessera/contracts';
import { fsyncDir } from '@tessera/node-agent';

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

interface Pending {
  record: LogRecord;
  resolve: (record: LogRecord) => void;
  reject: (error: unknown) => void;
}

const NEWLINE = 0x0a;
const EPOCH = /^[0-9]{1,19}$/;

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

export function partitionLogPath(dataDir: string, resource: string, partition: number): string {
  return join(dataDir, 'data', resource, `${partition}.log`);
}

/**
 * The append-only log of one partition: `<dataDir>/data/<resource>/<partition>.log`, one JSON
 * line per write `{ offset, epoch, key, value }`, and an in-memory index (key → latest value)
 * rebuilt from the log on open.
 *
 * Durability: `append` resolves only after the line is written and fdatasync'ed, so an
 * acknowledged write survives a crash or power loss. Concurrent appends share one write and one
 * fsync (group commit). A torn last line (a crash mid-append: never acknowledged) is cut off on
 * open; damage anywhere else stops the open.
 */
export class PartitionStore {
  private readonly index = new Map<string, StoredValue>();
  private nextOffset = 0;
  private handle: FileHandle | null = null;
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;
  private closed = false;
  private recovery: RecoveryInfo = { records: 0, truncatedBytes: 0 };

  private constructor(
    readonly resource: string,
    readonly partition: number,
    readonly path: string,
  ) {}

  static async open(dataDir: string, resource: string, partition: number): Promise<PartitionStore> {
    if (!isToken(resource) || !Number.isSafeInteger(partition) || partition < 0) {
      throw new TesseraError('INVALID', `bad partition ${resource}/${partition}`);
    }
    const store = new PartitionStore(
      resource,
      partition,
      partitionLogPath(dataDir, resource, partition),
    );
    await store.load(dataDir);
    return store;
  }

  get info(): RecoveryInfo {
    return this.recovery;
  }

  /** The offset the next write will get (log end offset). */
  get logEndOffset(): number {
    return this.nextOffset;
  }

  get size(): number {
    return this.index.size;
  }

  get(key: string): StoredValue | null {
    return this.index.get(key) ?? null;
  }

  /** Appends a write; resolves once it is durable on disk. */
  append(epoch: string, key: string, value: string): Promise<LogRecord> {
    if (this.closed)
      return Promise.reject(
        new TesseraError('UNAVAILABLE', `${this.resource}/${this.partition} is closed`),
      );
    if (this.failure !== null) {
      return Promise.reject(
        new TesseraError(
          'UNAVAILABLE',
          `${this.resource}/${this.partition} log failed; restart needed`,
        ),
      );
    }
    const record: LogRecord = { offset: this.nextOffset++, epoch, key, value };
    const done = new Promise<LogRecord>((resolve, reject) =>
      this.pending.push({ record, resolve, reject }),
    );
    // Started on a later tick so `flushing` is set before the flush can finish.
    this.flushing ??= Promise.resolve().then(() => this.flush());
    return done;
  }

  /** Waits until every write accepted so far is durable (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    await this.handle?.close();
    this.handle = null;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const handle = this.handle;
        try {
          if (!handle) throw new Error('log is not open');
          await handle.appendFile(
            batch.map((p) => JSON.stringify(p.record) + '\n').join(''),
            'utf8',
          );
          await handle.datasync();
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
        for (const { record, resolve } of batch) {
          this.index.set(record.key, {
            value: record.value,
            offset: record.offset,
            epoch: record.epoch,
          });
          resolve(record);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async load(dataDir: string): Promise<void> {
    const dir = join(dataDir, 'data', this.resource);
    let buffer: Buffer | null = null;
    try {
      buffer = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (buffer === null) {
      await mkdir(dir, { recursive: true });
      this.handle = await open(this.path, 'a');
      // Make the new file's name durable, and the directories holding it.
      await fsyncDir(dir);
      await fsyncDir(join(dataDir, 'data'));
      await fsyncDir(dataDir);
      return;
    }
    const validBytes = this.replay(buffer);
    if (validBytes < buffer.length) {
      await truncate(this.path, validBytes);
      this.recovery = { ...this.recovery, truncatedBytes: buffer.length - validBytes };
    }
    this.handle = await open(this.path, 'a');
    if (validBytes < buffer.length) {
      await this.handle.sync();
      if ((await stat(this.path)).size !== validBytes)
        throw new CorruptLogError(`${this.path}: truncation did not take`);
    }
  }

  /** Rebuilds the index; returns the length of the intact prefix. */
  private replay(buffer: Buffer): number {
    let start = 0;
    let records = 0;
    while (start < buffer.length) {
      const end = buffer.indexOf(NEWLINE, start);
      // No newline: the last append was cut short. It was never acknowledged; drop it.
      if (end === -1) break;
      const record = parseRecord(buffer.subarray(start, end), records);
      if (!record) {
        if (end + 1 === buffer.length) break; // a damaged last line: same as torn
        throw new CorruptLogError(
          `${this.path}: bad record at byte ${start} (offset ${records}) before the tail`,
        );
      }
      this.index.set(record.key, {
        value: record.value,
        offset: record.offset,
        epoch: record.epoch,
      });
      records++;
      start = end + 1;
    }
    this.nextOffset = records;
    this.recovery = { records, truncatedBytes: 0 };
    return start;
  }
}
