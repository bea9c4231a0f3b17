import {
  type ErrorCode,
  Subjects,
  TesseraError,
  fullSubject,
  isErrorReply,
} from '@tessera/contracts';
import { type ClusterConnection } from './map-events';
import { type Route } from './partition-map-client';

/** Sends one request and returns the decoded reply; NetworkManager.requestRaw is one. */
export interface KvRequester {
  requestRaw(
    relativeSubject: string,
    payload: unknown,
    options?: { timeoutMs?: number },
  ): Promise<unknown>;
}

/** What KvClient needs of the map (PartitionMapClient is one). */
export interface PartitionRouter {
  route(resource: string, key: string): Route;
  refresh(): Promise<unknown>;
}

export interface KvClientOptions {
  router: PartitionRouter;
  requester: KvRequester;
  /** Tries per operation, first one included. */
  attempts?: number;
  timeoutMs?: number;
  /** Pause before retry n is n × backoffMs. */
  backoffMs?: number;
  /**
   * Retry a put whose outcome is unknown (TIMEOUT, NOT_ENOUGH_REPLICAS, a failed write on the
   * leader) on whichever node leads after a map refresh. Off by default: the first attempt may
   * have been applied, and a retry would then write the value twice (at two offsets). Safe for
   * idempotent writes. The error thrown in the end is still an UnknownOutcomeError.
   */
  retryUnknownOutcome?: boolean;
}

export interface KvPutResult {
  partition: number;
  epoch: string;
  offset: number;
}

export interface KvGetResult {
  partition: number;
  value: string | null;
  epoch: string;
}

/** A plain nats.js connection as a requester (timeouts and "no responders" become TesseraErrors). */
export function natsRequester(source: ClusterConnection): KvRequester {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    async requestRaw(relativeSubject, payload, options = {}) {
      const subject = fullSubject(source.cluster, relativeSubject);
      const timeout = options.timeoutMs ?? 2_000;
      try {
        const msg = await source.connection.request(
          subject,
          encoder.encode(JSON.stringify(payload)),
          { timeout },
        );
        return JSON.parse(decoder.decode(msg.data)) as unknown;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'TIMEOUT')
          throw new TesseraError('TIMEOUT', `no reply on ${subject} within ${timeout} ms`, {
            cause: error,
          });
        if (code === '503')
          throw new TesseraError('UNAVAILABLE', `nobody serves ${subject}`, { cause: error });
        if (error instanceof SyntaxError)
          throw new TesseraError('INVALID_JSON', `reply on ${subject} is not JSON`, {
            cause: error,
          });
        throw new TesseraError('UNAVAILABLE', `request on ${subject} failed`, { cause: error });
      }
    },
  };
}

/**
 * A put that may or may not have been applied: the leader appended it but not every ISR member
 * confirmed in time (TIMEOUT, NOT_ENOUGH_REPLICAS), its disk write failed (UNAVAILABLE), or no
 * reply came back. It was not acknowledged, yet it may survive and become visible later.
 * `code` is the code of the failure; the `cause` chain holds the original error.
 */
export class UnknownOutcomeError extends TesseraError {
  readonly outcome = 'unknown' as const;
}

/** True for a put whose outcome is unknown (see UnknownOutcomeError). */
export function isUnknownOutcome(error: unknown): error is UnknownOutcomeError {
  return error instanceof UnknownOutcomeError;
}

/**
 * Whether a failed put attempt may still have been applied. Refusals before the append
 * (NOT_LEADER, INVALID, …) and "nobody serves the subject" (the request reached no one) are
 * definite; a reply of NOT_ENOUGH_REPLICAS, TIMEOUT or UNAVAILABLE, or no reply at all, is not.
 */
export function putOutcomeUnknown(error: TesseraError, fromReply: boolean): boolean {
  switch (error.code) {
    case 'NOT_ENOUGH_REPLICAS':
    case 'TIMEOUT':
      return true;
    case 'UNAVAILABLE':
      // Thrown by the requester: unknown unless NATS said nobody listens (503).
      return fromReply || (error.cause as { code?: unknown } | undefined)?.code !== '503';
    case 'NOT_LEADER':
    case 'FENCED':
    case 'STALE_EPOCH':
    case 'INVALID':
    case 'INVALID_JSON':
    case 'UNKNOWN_SUBJECT':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'UNSATISFIABLE':
    case 'INTERNAL':
      return false;
  }
}

/** How a failed attempt is handled: retry after refreshing the map, retry as is, or give up. */
type Recovery = 'refresh' | 'retry' | 'fail';

export function recoveryFor(code: ErrorCode): Recovery {
  switch (code) {
    // The map is stale or the leader is gone: ask again where the partition lives.
    case 'NOT_LEADER':
    case 'FENCED':
    case 'STALE_EPOCH':
    case 'TIMEOUT':
    case 'UNAVAILABLE':
      return 'refresh';
    // The leader is right but its ISR is short: it may recover.
    case 'NOT_ENOUGH_REPLICAS':
      return 'retry';
    case 'INVALID':
    case 'INVALID_JSON':
    case 'UNKNOWN_SUBJECT':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'UNSATISFIABLE':
    case 'INTERNAL':
      return 'fail';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * put/get against the kv-node leaders: each request goes to its partition's leader subject; on
 * NOT_LEADER or nobody answering, the map is refreshed and the request retried, a bounded number
 * of times, then a TesseraError with the last code is thrown.
 *
 * A put whose outcome is unknown (see UnknownOutcomeError) is not retried unless the caller opted
 * in with `retryUnknownOutcome`: it fails at once with an UnknownOutcomeError. Gets are always
 * retried (reading twice changes nothing).
 */
export class KvClient {
  private readonly attempts: number;

  constructor(private readonly options: KvClientOptions) {
    this.attempts = Math.max(1, options.attempts ?? 5);
  }

  async put(resource: string, key: string, value: string): Promise<KvPutResult> {
    return this.call('put', resource, key, { key, value }, (reply, route) => {
      const r = reply as { epoch?: unknown; offset?: unknown };
      if (typeof r.epoch !== 'string' || typeof r.offset !== 'number')
        throw new TesseraError('INTERNAL', 'malformed put reply');
      return { partition: route.partition, epoch: r.epoch, offset: r.offset };
    });
  }

  async get(resource: string, key: string): Promise<KvGetResult> {
    return this.call('get', resource, key, { key }, (reply, route) => {
      const r = reply as { epoch?: unknown; value?: unknown };
      if (typeof r.epoch !== 'string' || !(r.value === null || typeof r.value === 'string')) {
        throw new TesseraError('INTERNAL', 'malformed get reply');
      }
      return { partition: route.partition, value: r.value, epoch: r.epoch };
    });
  }

  private async call<T>(
    op: 'put' | 'get',
    resource: string,
    key: string,
    payload: object,
    decode: (reply: object, route: Route) => T,
  ): Promise<T> {
    const { router, requester } = this.options;
    let last: TesseraError | null = null;
    let refreshedForUnknown = false;
    // Set once an attempt may have applied the put: whatever follows, the outcome is unknown.
    let uncertain = false;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep((this.options.backoffMs ?? 100) * (attempt - 1));
      let recovery: Recovery;
      try {
        const route = router.route(resource, key);
        if (route.leader === null)
          throw new TesseraError('UNAVAILABLE', `${resource}/${route.partition} has no leader`);
        const subject =
          op === 'put'
            ? Subjects.kv.put(resource, route.partition)
            : Subjects.kv.get(resource, route.partition);
        let reply: unknown;
        try {
          reply = await requester.requestRaw(subject, payload, {
            timeoutMs: this.options.timeoutMs ?? 2_000,
          });
        } catch (error) {
          if (op === 'put' && error instanceof TesseraError && putOutcomeUnknown(error, false))
            uncertain = true;
          throw error;
        }
        if (isErrorReply(reply)) {
          const refused = new TesseraError(reply.code, reply.message);
          if (op === 'put' && putOutcomeUnknown(refused, true)) uncertain = true;
          throw refused;
        }
        if (typeof reply !== 'object' || reply === null)
          throw new TesseraError('INTERNAL', `malformed ${op} reply`);
        return decode(reply, route);
      } catch (error) {
        last =
          error instanceof TesseraError
            ? error
            : new TesseraError('INTERNAL', `${op} failed`, { cause: error });
        if (uncertain && !this.options.retryUnknownOutcome)
          throw this.unknownOutcome(resource, key, last);
        recovery = recoveryFor(last.code);
        // A resource missing from the map may just be newer than the map: look once more.
        if (last.code === 'NOT_FOUND' && !refreshedForUnknown) {
          refreshedForUnknown = true;
          recovery = 'refresh';
        }
      }
      if (recovery === 'fail') throw last;
      if (recovery === 'refresh' && attempt < this.attempts) {
        // A failed refresh leaves the old map; the next attempt tells whether that still works.
        await router.refresh().catch(() => undefined);
      }
    }
    const final = last ?? new TesseraError('UNAVAILABLE', `${op} failed`);
    if (uncertain) throw this.unknownOutcome(resource, key, final);
    throw new TesseraError(
      final.code,
      `${op} ${resource}/${key} failed after ${this.attempts} attempts: ${final.message}`,
      { cause: final },
    );
  }

  private unknownOutcome(resource: string, key: string, last: TesseraError): UnknownOutcomeError {
    return new UnknownOutcomeError(
      last.code,
      `put ${resource}/${key}: outcome unknown, it may or may not have been applied (${last.code}: ${last.message})`,
      { cause: last },
    );
  }
}
