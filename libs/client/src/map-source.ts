import {
  API_PREFIX,
  type MapResourceV1,
  type MapViewV1,
  type PartitionViewV1,
  TesseraError,
  isErrorCode,
} from '@tessera/contracts';

/** Where the partition map comes from (the coordinator's `GET /api/v1/map`, or a fake). */
export interface MapSource {
  fetchMap(): Promise<MapViewV1>;
}

export interface HttpMapSourceOptions {
  /** Bearer token when the admin API requires one (TESSERA_ADMIN_TOKEN). */
  token?: string;
  timeoutMs?: number;
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

function bad(what: string): TesseraError {
  return new TesseraError('INVALID', `malformed partition map: ${what}`);
}

function parsePartition(value: unknown, where: string): PartitionViewV1 {
  const p = value as Partial<PartitionViewV1> | null;
  if (typeof p !== 'object' || p === null) throw bad(`${where} is not an object`);
  if (!isInt(p.partition) || p.partition < 0) throw bad(`${where}.partition`);
  if (!isStringArray(p.replicas)) throw bad(`${where}.replicas`);
  if (!(p.leader === null || typeof p.leader === 'string')) throw bad(`${where}.leader`);
  if (!isInt(p.epoch) || p.epoch < 0) throw bad(`${where}.epoch`);
  if (!isStringArray(p.isr)) throw bad(`${where}.isr`);
  return {
    partition: p.partition,
    replicas: p.replicas,
    leader: p.leader,
    epoch: p.epoch,
    isr: p.isr,
  };
}

function parseResource(value: unknown, index: number): MapResourceV1 {
  const r = value as Partial<MapResourceV1> | null;
  if (typeof r !== 'object' || r === null) throw bad(`resources[${index}] is not an object`);
  if (typeof r.name !== 'string' || r.name.length === 0) throw bad(`resources[${index}].name`);
  if (!isInt(r.partitionCount) || r.partitionCount < 1) throw bad(`${r.name}.partitionCount`);
  if (!Array.isArray(r.partitions)) throw bad(`${r.name}.partitions`);
  const name = r.name;
  return {
    name,
    partitionCount: r.partitionCount,
    partitions: r.partitions.map((p, i) => parsePartition(p, `${name}.partitions[${i}]`)),
  };
}

/** Checks a map that came over the wire (the client trusts no input either). */
export function parseMapView(value: unknown): MapViewV1 {
  const m = value as Partial<MapViewV1> | null;
  if (typeof m !== 'object' || m === null) throw bad('not an object');
  if (!isInt(m.version) || m.version < 0) throw bad('version');
  if (!Array.isArray(m.resources)) throw bad('resources');
  return { version: m.version, resources: m.resources.map(parseResource) };
}

/** Reads the map from the coordinator's admin API. */
export class HttpMapSource implements MapSource {
  private readonly url: string;

  constructor(
    apiUrl: string,
    private readonly options: HttpMapSourceOptions = {},
  ) {
    this.url = `${apiUrl.replace(/\/+$/, '')}/${API_PREFIX}/map`;
  }

  async fetchMap(): Promise<MapViewV1> {
    const doFetch = this.options.fetch ?? fetch;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await doFetch(this.url, {
        headers,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new TesseraError(
        timedOut ? 'TIMEOUT' : 'UNAVAILABLE',
        `cannot fetch ${this.url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new TesseraError(
        response.ok ? 'INVALID_JSON' : 'UNAVAILABLE',
        `${this.url} answered ${response.status} without JSON`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const b = body as { code?: unknown; message?: unknown } | null;
      const code = isErrorCode(b?.code) ? b.code : 'UNAVAILABLE';
      throw new TesseraError(
        code,
        `${this.url} answered ${response.status}: ${typeof b?.message === 'string' ? b.message : 'error'}`,
      );
    }
    return parseMapView(body);
  }
}
