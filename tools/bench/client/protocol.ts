/** Messages between the benchmark and its client-hosting worker processes (Node IPC). */

/**
 * `events`: live map events, as PartitionMapClient ships (ours); `poll`: refetch GET /api/v1/map
 * on a timer (the baseline); `hints`: a diagnostic, events with no refetch at all (what the
 * events path costs without the refetches each map version triggers).
 */
export type ClientMode = 'events' | 'hints' | 'poll';

/** Passed to a worker as JSON in BENCH_WORKER. */
export interface WorkerConfig {
  mode: ClientMode;
  /** How many PartitionMapClients this worker hosts, each with its own NATS connection. */
  clients: number;
  /** Index of this worker's first client (clients are numbered across workers). */
  firstClient: number;
  natsUrl: string;
  cluster: string;
  /** Coordinator base URL (the client adds /api/v1/map). */
  apiUrl: string;
  token: string;
  resource: string;
  /** Poll mode: the refresh interval. */
  pollMs: number;
}

/** How a client came to route to the new leader. */
export type AppliedVia = 'event' | 'fetch' | 'check';

/** One client having applied one leader change. */
export interface Sample {
  partition: number;
  epoch: number;
  client: number;
  /** From the event's `at` (the map change's transaction) to `route()` returning the new epoch. */
  latencyMs: number;
  via: AppliedVia;
}

export type ToWorker = { type: 'report' } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; clients: number }
  | {
      type: 'report';
      samples: Sample[];
      /** Leader changes some client of this worker does not route to yet: partition@epoch × clients. */
      pending: { partition: number; epoch: number; clients: number }[];
      /** For each change this worker's observer received: from the event's `at` to its arrival. */
      deliveries: { partition: number; epoch: number; latencyMs: number }[];
      /** GET /api/v1/map calls made by this worker's clients since the last report. */
      mapFetches: number;
      /** Map fetches that failed (e.g. 429 or a timeout) since the last report. */
      fetchFailures: number;
      /** Times a client's route went back to an older epoch after it had applied a newer one. */
      regressions: number;
    }
  | { type: 'error'; message: string };

export function isFromWorker(value: unknown): value is FromWorker {
  const t = (value as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'report' || t === 'error';
}

export function isToWorker(value: unknown): value is ToWorker {
  const t = (value as { type?: unknown } | null)?.type;
  return t === 'report' || t === 'stop';
}
