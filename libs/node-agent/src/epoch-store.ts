import { open, readFile, rename, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the fencing record inside the node's data directory. */
export const EPOCH_FILE = 'epochs.json';

const FORMAT_VERSION = 1;
const EPOCH_PATTERN = /^[0-9]{1,19}$/;

interface EpochFileV1 {
  version: number;
  /** `<resource>/<partition>` → highest leader epoch seen (decimal string). */
  epochs: Record<string, string>;
}

export interface EpochRecord {
  resource: string;
  partition: number;
  epoch: bigint;
}

function keyOf(resource: string, partition: number): string {
  return `${resource}/${partition}`;
}

/** Where the data directory is missing, broken or unreadable: the node must not start. */
export class EpochStoreError extends Error {
  override readonly name = 'EpochStoreError';
}

/**
 * The highest leader epoch this node has seen per (resource, partition), kept durably in
 * `<dataDir>/epochs.json`. A node persists an epoch before it acts on the role it grants, so a
 * command older than one it already obeyed is refused, also after a crash or restart.
 *
 * Writes replace the whole file atomically (temp file, fsync, rename, fsync the directory): a
 * crash leaves either the old or the new file, never half of one. Writes are serialised.
 */
export class EpochStore {
  private readonly epochs = new Map<string, bigint>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  get path(): string {
    return join(this.dir, EPOCH_FILE);
  }

  private get tempPath(): string {
    return join(this.dir, `${EPOCH_FILE}.tmp`);
  }

  /** Opens (creating the directory if needed) and loads the stored epochs. */
  static async open(dataDir: string): Promise<EpochStore> {
    const store = new EpochStore(dataDir);
    await mkdir(dataDir, { recursive: true });
    // A temp file is what a crash before the rename leaves behind: never committed, drop it.
    await rm(store.tempPath, { force: true, recursive: true });
    let text: string;
    try {
      text = await readFile(store.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new EpochStoreError(`cannot read ${store.path}: ${(error as Error).message}`);
    }
    store.load(text);
    return store;
  }

  private load(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Never start from nothing: that would forget every fence. An operator must look.
      throw new EpochStoreError(
        `${this.path} is not valid JSON; refusing to start without fencing state`,
      );
    }
    const file = parsed as Partial<EpochFileV1> | null;
    if (typeof file !== 'object' || file === null || file.version !== FORMAT_VERSION) {
      throw new EpochStoreError(`${this.path}: unknown format`);
    }
    const epochs = file.epochs;
    if (typeof epochs !== 'object' || epochs === null) {
      throw new EpochStoreError(`${this.path}: missing epochs`);
    }
    for (const [key, value] of Object.entries(epochs)) {
      if (
        typeof value !== 'string' ||
        !EPOCH_PATTERN.test(value) ||
        !/^[A-Za-z0-9_-]{1,64}\/[0-9]+$/.test(key)
      ) {
        throw new EpochStoreError(`${this.path}: bad entry "${key}"`);
      }
      this.epochs.set(key, BigInt(value));
    }
  }

  /** The highest epoch seen for the partition, or null if none. */
  highest(resource: string, partition: number): bigint | null {
    return this.epochs.get(keyOf(resource, partition)) ?? null;
  }

  /** Every stored fence, for diagnostics. */
  entries(): EpochRecord[] {
    return [...this.epochs.entries()].map(([key, epoch]) => {
      const slash = key.lastIndexOf('/');
      return { resource: key.slice(0, slash), partition: Number(key.slice(slash + 1)), epoch };
    });
  }

  /**
   * Raises the stored epochs (never lowers one) and resolves only once they are durable. The
   * in-memory view changes only after the file is safely replaced, so a failed write leaves the
   * node obeying the old fences.
   */
  async raise(records: readonly EpochRecord[]): Promise<void> {
    const run = this.writing.then(() => this.raiseNow(records));
    // Keep the chain alive after a failure; the caller sees the error through `run`.
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async raiseNow(records: readonly EpochRecord[]): Promise<void> {
    const raised = new Map<string, bigint>();
    for (const r of records) {
      if (r.epoch < 0n)
        throw new RangeError(`negative epoch for ${keyOf(r.resource, r.partition)}`);
      const key = keyOf(r.resource, r.partition);
      const current = raised.get(key) ?? this.epochs.get(key);
      if (current === undefined || r.epoch > current) raised.set(key, r.epoch);
    }
    if (raised.size === 0) return;
    await this.writeDurably(raised);
    for (const [key, epoch] of raised) this.epochs.set(key, epoch);
  }

  /**
   * Writes the stored epochs with `raised` over them. The text is built directly: a node rewrites
   * this file for every role command, and sorting plus building an object of its ~10,000 entries
   * each time was a tenth of a busy kv-node's CPU (profiled).
   */
  private async writeDurably(raised: ReadonlyMap<string, bigint>): Promise<void> {
    const entries: string[] = [];
    for (const [key, epoch] of this.epochs)
      if (!raised.has(key)) entries.push(`${JSON.stringify(key)}:"${epoch}"`);
    for (const [key, epoch] of raised) entries.push(`${JSON.stringify(key)}:"${epoch}"`);
    const text = `{"version":${FORMAT_VERSION},"epochs":{${entries.join(',')}}}\n`;
    const handle = await open(this.tempPath, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.tempPath, this.path);
    await fsyncDir(this.dir);
  }
}

/** Makes a rename or a new file in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
