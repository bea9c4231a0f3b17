/** Messages between the benchmark and its client-hosting worker processes (Node IPC). */

/**
 * `events`: live map events, as PartitionMapClient ships (ours: versioned deltas, a refetch only
 * on a gap); `refetch`: the same client fed `events.map` without its delta fields (as from an
 * older coordinator), so it refetches GET /api/v1/map on every new version, as the client did
 * before deltas (the previous behaviour, kept as a baseline); `poll`: refetch GET /api/v1/map on
 * a timer (the baseline users would otherwise write).
 */
export type ClientMode = 'events' | 'refetch' | 'poll';

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
      /** This worker's event-loop delay since the last report (how long an arrived event can wait). */
      loopDelayMs: { p50: number; p99: number; max: number };
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
