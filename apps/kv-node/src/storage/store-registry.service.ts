import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { KV_CONFIG, KvNodeConfig } from '../config/kv-config';
import { DATA_DIR_CLAIM, DataDirClaim } from './data-dir';
import { PartitionStore } from './partition-store';

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

  /** The partition's store, opening it (and replaying its log) on first use. */
  get(resource: string, partition: number): Promise<PartitionStore> {
    const key = `${resource}/${partition}`;
    const existing = this.opening.get(key);
    if (existing) return existing;
    const removal = this.removing.get(key) ?? Promise.resolve();
    const opening = removal
      .then(() => PartitionStore.open(this.config.dataDir, resource, partition))
      .then((store) => {
        const { records, truncatedBytes } = store.info;
        const context = {
          nodeId: this.config.nodeId,
          resource,
          partition,
          records,
          truncatedBytes,
        };
        if (truncatedBytes > 0)
          this.logger.warn(context, 'partition log had a torn tail; cut it off');
        else this.logger.info(context, 'partition log opened');
        this.open.set(key, store);
        return store;
      });
    this.opening.set(key, opening);
    // A failed open is not cached: the next request tries again.
    opening.catch(() => this.opening.delete(key));
    return opening;
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
