/** A request waiting for its batch, with how to answer it. */
export interface Queued<Req, Ans> {
  req: Req;
  resolve: (answer: Ans) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions<Req, Ans> {
  /** Requests with the same key never share a batch: the second must see the first's outcome. */
  keyOf: (req: Req) => string;
  maxBatch: number;
  /** Commits a batch and answers each request in it (one that is left unanswered is refused). */
  commit: (batch: Queued<Req, Ans>[]) => Promise<void>;
}

/**
 * Group commit: requests that arrive in the same turn of the event loop, or while a batch
 * commits, are committed together: one transaction, one event and one map version downstream instead of one per request
 * (a drain hands over a node's leaderships at once; a returning node brings thousands of ISR
 * changes). Each request keeps its own check and answer; if a commit throws, every request of
 * its batch fails with that error and the proposers retry.
 */
export class GroupCommit<Req, Ans> {
  private readonly queue: Queued<Req, Ans>[] = [];
  private draining = false;

  constructor(private readonly options: GroupCommitOptions<Req, Ans>) {}

  submit(req: Req): Promise<Ans> {
    return new Promise<Ans>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      // Requests that arrive together (a drain sends a node's handoffs at once; they are read
      // from the socket in one turn of the event loop) commit together: the first does not go
      // alone with the rest a transaction later, one map version each.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const batch: Queued<Req, Ans>[] = [];
        const later: Queued<Req, Ans>[] = [];
        const keys = new Set<string>();
        for (const q of this.queue.splice(0)) {
          const key = this.options.keyOf(q.req);
          if (batch.length < this.options.maxBatch && !keys.has(key)) {
            keys.add(key);
            batch.push(q);
          } else later.push(q);
        }
        this.queue.unshift(...later);
        try {
          await this.options.commit(batch);
        } catch (error) {
          for (const q of batch) q.reject(error); // a promise already settled ignores this
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
