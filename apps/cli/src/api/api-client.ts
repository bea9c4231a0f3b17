import type {
  ApiErrorBodyV1,
  CreateResourceBodyV1,
  MapViewV1,
  NodeAdminReplyV1,
  NodeViewV1,
  OperationV1,
  RebalancePlanV1,
  ResourceDeletedReplyV1,
  ResourceDetailV1,
  ResourceViewV1,
} from '@tessera/contracts';
import { type ApiConfig } from './api-config';
import { CliError, EXIT_INTERRUPTED } from './cli-error';

/** A failed call to the coordinator; `status` is null when no HTTP answer came back. */
export class ApiError extends CliError {
  override readonly name = 'ApiError';

  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, undefined, options);
  }

  /** True when the coordinator could not be reached at all. */
  get unreachable(): boolean {
    return this.status === null;
  }

  /** Worth retrying while waiting: no answer, rate limited, or a gateway / dependency outage. */
  get transient(): boolean {
    return (
      this.status === null || this.status === 429 || (this.status >= 502 && this.status <= 504)
    );
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** Typed client of the coordinator's admin REST API (`/api/v1`). */
export class ApiClient {
  constructor(
    private readonly config: ApiConfig,
    /** Aborted on Ctrl-C: an in-flight request stops at once. */
    private readonly interrupt?: AbortSignal,
  ) {}

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  nodes(): Promise<NodeViewV1[]> {
    return this.request('GET', '/nodes');
  }

  drain(nodeId: string): Promise<NodeAdminReplyV1> {
    return this.request('POST', `/nodes/${encodeURIComponent(nodeId)}/drain`);
  }

  undrain(nodeId: string): Promise<NodeAdminReplyV1> {
    return this.request('POST', `/nodes/${encodeURIComponent(nodeId)}/undrain`);
  }

  resources(): Promise<ResourceViewV1[]> {
    return this.request('GET', '/resources');
  }

  resource(name: string): Promise<ResourceDetailV1> {
    return this.request('GET', `/resources/${encodeURIComponent(name)}`);
  }

  createResource(body: CreateResourceBodyV1): Promise<ResourceViewV1> {
    return this.request('POST', '/resources', body);
  }

  deleteResource(name: string): Promise<ResourceDeletedReplyV1> {
    return this.request('DELETE', `/resources/${encodeURIComponent(name)}`);
  }

  rebalance(name: string, dryRun: boolean): Promise<RebalancePlanV1> {
    return this.request('POST', `/resources/${encodeURIComponent(name)}/rebalance`, { dryRun });
  }

  map(): Promise<MapViewV1> {
    return this.request('GET', '/map');
  }

  async operations(): Promise<OperationV1[]> {
    // Accept both a bare list and the recovery service's `{ operations }` envelope.
    const reply = await this.request<OperationV1[] | { operations: OperationV1[] }>(
      'GET',
      '/operations',
    );
    return Array.isArray(reply) ? reply : reply.operations;
  }

  operation(id: string): Promise<OperationV1> {
    return this.request('GET', `/operations/${encodeURIComponent(id)}`);
  }

  /** A pending re-replication's grace delay, from the node's death (0 = start now). */
  setGrace(id: string, graceMs: number): Promise<OperationV1> {
    return this.request('PATCH', `/operations/${encodeURIComponent(id)}`, { graceMs });
  }

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const url = `${this.config.baseUrl}/api/v1${path}`;
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = this.interrupt ? AbortSignal.any([timeout, this.interrupt]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.config.token) headers['authorization'] = `Bearer ${this.config.token}`;

    let status: number;
    let statusText: string;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      status = response.status;
      statusText = response.statusText;
      text = await response.text();
    } catch (error: unknown) {
      throw this.transportError(error);
    }

    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (text.trim() === '') return undefined as T;
      if (parsed === undefined) {
        throw new ApiError(
          `unexpected reply from ${url}: not JSON (is TESSERA_API_URL the coordinator?)`,
          status,
          'BAD_REPLY',
        );
      }
      return parsed as T;
    }
    throw this.httpError(status, statusText, parsed);
  }

  private transportError(error: unknown): CliError {
    const name = errorField(error, 'name');
    if (name === 'AbortError' || (this.interrupt?.aborted && name !== 'TimeoutError')) {
      return new CliError('interrupted', EXIT_INTERRUPTED, { cause: error });
    }
    const where = `cannot reach the coordinator at ${this.config.baseUrl}`;
    if (name === 'TimeoutError') {
      const seconds = this.config.timeoutMs / 1000;
      return new ApiError(`${where}: no answer within ${seconds}s`, null, 'TIMEOUT', {
        cause: error,
      });
    }
    return new ApiError(`${where}: ${networkReason(error)}`, null, 'UNREACHABLE', { cause: error });
  }

  private httpError(status: number, statusText: string, body: unknown): ApiError {
    const { code, message } = errorBodyOf(body, status, statusText);
    const tokenHint = this.config.token ? '' : ' (TESSERA_ADMIN_TOKEN is not set)';
    if (status === 401 || status === 403) {
      return new ApiError(`unauthorized: ${message}${tokenHint}`, status, code);
    }
    if (status === 404) return new ApiError(`not found: ${message}`, status, code);
    if (status === 409) return new ApiError(`conflict: ${message}`, status, code);
    if (status === 429) return new ApiError(`rate limited: ${message}`, status, code);
    if (status >= 400 && status < 500)
      return new ApiError(`invalid request: ${message}`, status, code);
    return new ApiError(`coordinator error: ${message} (HTTP ${status} ${code})`, status, code);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `{ statusCode, code, message }` body, tolerating Nest's defaults and non-JSON proxies. */
function errorBodyOf(
  body: unknown,
  status: number,
  statusText: string,
): Pick<ApiErrorBodyV1, 'code' | 'message'> {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const rawMessage = record['message'];
  const message = Array.isArray(rawMessage)
    ? rawMessage.map(String).join('; ')
    : typeof rawMessage === 'string' && rawMessage !== ''
      ? rawMessage
      : statusText || `HTTP ${status}`;
  const code = typeof record['code'] === 'string' ? record['code'] : `HTTP_${status}`;
  return { code, message: oneLine(message) };
}

/**
 * Reads a field of an error-like value. Duck-typed on purpose: fetch's errors may come from
 * another realm (a test runner's sandbox), where `instanceof Error` is false.
 */
function errorField(
  error: unknown,
  field: 'name' | 'code' | 'message' | 'cause' | 'errors',
): unknown {
  return typeof error === 'object' && error !== null
    ? (error as Record<string, unknown>)[field]
    : undefined;
}

/** Why fetch failed: undici hides the system error in `cause`, sometimes in an AggregateError. */
function networkReason(error: unknown): string {
  let current: unknown = error;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = errorField(current, 'code');
    if (typeof code === 'string' && NETWORK_ERRORS[code]) return NETWORK_ERRORS[code];
    const text = errorField(current, 'message');
    if (typeof text === 'string' && text !== '') message = text;
    const errors = errorField(current, 'errors');
    current =
      Array.isArray(errors) && errors.length > 0
        ? (errors[0] as unknown)
        : errorField(current, 'cause');
  }
  return oneLine(message ?? String(error));
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
