import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { KV_CONFIG, KvNodeConfig } from '../config/kv-config';
import { DATA_DIR_CLAIM, DataDirClaim } from './data-dir';
import { PartitionStore } from './partition-store';

/** A partition's log file name (see partitionLogPath). */
const LOG_FILE = /^(0|[1-9][0-9]{0,8})\.log$/;

/** Entries of a directory; none when it does not exist or is not a directory. */
async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/** Opens each partition's store once, on first use, and closes them all at shutdown. */
@Injectable()
export class StoreRegistry implements OnApplicationShutdown {
  private readonly opening = new Map<string, Promise<PartitionStore>>();
  private readonly open = new Map<string, PartitionStore>();
  /** Deletions in progress: a store opened meanwhile waits for its partition's to finish. */
  private readonly removing = new Map<string, Promise<void>>();

  constructor(
    @Inject(KV_CONFIG) private readonly config: KvNodeConfig,
    @Inject(DATA_DIR_CLAIM) private readonly claim: DataDirClaim,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(StoreRegistry.name);
  }

  /**
   * The partition's store, opening it (and replaying its log) on first use. Given the epoch the
   * partition was created at (`RoleAssignmentV1.createdEpoch`), a log whose first record is older
   * is deleted first and the store starts empty: it was left by a deleted resource of the same
   * name (its `NONE` never reached this node: it was down or cut off), and serving or extending
   * it would bring the old values back.
   */
  get(resource: string, partition: number, createdEpoch?: string | null): Promise<PartitionStore> {
    const key = `${resource}/${partition}`;
    const opening = this.opening.get(key) ?? this.openLog(key, resource, partition);
    const created = createdEpoch ? BigInt(createdEpoch) : 0n;
    if (created === 0n) return opening;
    const checked = opening.then((store) => {
      const first = store.firstEpoch;
      if (first === null || first >= created) return store;
      this.logger.warn(
        {
          nodeId: this.config.nodeId,
          resource,
          partition,
          firstEpoch: first.toString(),
          createdEpoch: created.toString(),
          records: store.logEndOffset,
        },
        'partition log predates the partition (a deleted resource of the same name left it); deleting it',
      );
      // Not remove(): that waits for this very promise.
      this.open.delete(key);
      return store
        .close()
        .then(() => PartitionStore.destroy(this.config.dataDir, resource, partition))
        .then(() => this.load(key, resource, partition));
    });
    // Later callers wait for the check (and a replacement), not the stale store.
    if (this.opening.get(key) === opening) this.opening.set(key, checked);
    checked.catch(() => {
      if (this.opening.get(key) === checked) this.opening.delete(key);
    });
    return checked;
  }

  private openLog(key: string, resource: string, partition: number): Promise<PartitionStore> {
    const removal = this.removing.get(key) ?? Promise.resolve();
    const opening = removal.then(() => this.load(key, resource, partition));
    this.opening.set(key, opening);
    // A failed open is not cached: the next request tries again.
    opening.catch(() => {
      if (this.opening.get(key) === opening) this.opening.delete(key);
    });
    return opening;
  }

  private async load(key: string, resource: string, partition: number): Promise<PartitionStore> {
    const store = await PartitionStore.open(this.config.dataDir, resource, partition);
    const { records, truncatedBytes } = store.info;
    const context = { nodeId: this.config.nodeId, resource, partition, records, truncatedBytes };
    if (truncatedBytes > 0) this.logger.warn(context, 'partition log had a torn tail; cut it off');
    else this.logger.info(context, 'partition log opened');
    this.open.set(key, store);
    return store;
  }

  /**
   * Closes the partition's store and deletes its log: consensus took the replica off this node
   * (a reassignment, a drain, the resource deleted). Without it every move left its log behind,
   * and a resource deleted and created again under the same name would replay the old records.
   */
  remove(resource: string, partition: number): Promise<void> {
    const key = `${resource}/${partition}`;
    const store = this.opening.get(key);
    this.opening.delete(key);
    this.open.delete(key);
    const before = this.removing.get(key) ?? Promise.resolve();
    const removal = before
      .then(() => store?.then((s) => s.close()).catch(() => undefined))
      .then(() => PartitionStore.destroy(this.config.dataDir, resource, partition))
      .then((deleted) => {
        if (deleted)
          this.logger.info(
            { nodeId: this.config.nodeId, resource, partition },
            'partition log deleted',
          );
      });
    this.removing.set(key, removal);
    const settled = () => {
      if (this.removing.get(key) === removal) this.removing.delete(key);
    };
    removal.then(settled, settled);
    return removal;
  }

  /**
   * Deletes the logs of partitions not in `held` (keys `resource/partition`), except those open,
   * being opened or being deleted: consensus took them off this node while it was down or cut
   * off, so their NONE never arrived. Returns the keys whose logs it deleted.
   */
  async sweep(held: ReadonlySet<string>): Promise<string[]> {
    const root = join(this.config.dataDir, 'data');
    const swept: string[] = [];
    for (const resource of await listDir(root)) {
      for (const file of await listDir(join(root, resource))) {
        const match = LOG_FILE.exec(file);
        if (!match) continue;
        const partition = Number(match[1]);
        const key = `${resource}/${partition}`;
        if (held.has(key) || this.opening.has(key) || this.removing.has(key)) continue;
        await this.remove(resource, partition);
        swept.push(key);
      }
    }
    return swept;
  }

  /** Log end offset of a store already open (replica reports); undefined otherwise. */
  position(resource: string, partition: number): number | undefined {
    return this.open.get(`${resource}/${partition}`)?.logEndOffset;
  }

  async onApplicationShutdown(): Promise<void> {
    const all = await Promise.allSettled([...this.opening.values()]);
    for (const r of all) {
      if (r.status === 'fulfilled') {
        await r.value
          .close()
          .catch((error: unknown) =>
            this.logger.error({ err: error, path: r.value.path }, 'closing a partition log failed'),
          );
      }
    }
    this.opening.clear();
    this.open.clear();
    this.claim.release();
  }
}
