import { TOKEN_PATTERN, TOKEN_RULE } from '@tessera/contracts';
import { parseEnv } from '@tessera/service-kit';
import { z } from 'zod';

export const MAX_NODE_TAGS = 32;
export const MAX_NODE_CAPACITY = 1_000_000;

function intVar(min: number, max: number) {
  const message = `expected an integer ${min}–${max}`;
  return z
    .string()
    .regex(/^[0-9]{1,9}$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
}

/** Default leader lease: well inside health's DEAD time (≈ 950 ms of silence), see README. */
export const DEFAULT_NODE_LEASE_MS = 600;
export const DEFAULT_MIN_ISR = 2;
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** Catch-up copies per node: ample for a laptop's disk, and live replication is never throttled. */
export const DEFAULT_CATCH_UP_BYTES_PER_SEC = 64 * 1024 * 1024;

const token = (what: string) =>
  z
    .string({ error: `required: ${what} (${TOKEN_RULE})` })
    .regex(TOKEN_PATTERN, `expected ${TOKEN_RULE}`);

/** kv-node's own variables (API.md), on top of the base TESSERA_* ones. */
export const kvEnvSchema = {
  TESSERA_NODE_ID: token('the node id'),
  TESSERA_NODE_ZONE: token('a zone').default('default'),
  TESSERA_NODE_RACK: token('a rack').default('default'),
  TESSERA_NODE_CAPACITY: z
    .string()
    .regex(/^[0-9]{1,7}$/, `expected an integer 1–${MAX_NODE_CAPACITY}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_NODE_CAPACITY, `expected an integer 1–${MAX_NODE_CAPACITY}`)
    .optional(),
  TESSERA_NODE_TAGS: z
    .string()
    .refine(
      (v) => splitTags(v).every((t) => TOKEN_PATTERN.test(t)),
      `expected comma-separated tags, each ${TOKEN_RULE}`,
    )
    .refine((v) => splitTags(v).length <= MAX_NODE_TAGS, `at most ${MAX_NODE_TAGS} tags`)
    .optional(),
  KV_DATA_DIR: z.string({ error: 'required: the data directory' }).min(1, 'must not be empty'),
  /** Fewest in-sync replicas a put needs (capped at the partition's replica count). */
  KV_MIN_ISR: intVar(1, 7).optional(),
  /** How long a put waits for every ISR member before it fails with an unknown outcome. */
  KV_ACK_TIMEOUT_MS: intVar(100, 600_000).optional(),
  /** Leader lease after the send time of the last acknowledged heartbeat. */
  TESSERA_NODE_LEASE_MS: intVar(50, 60_000).optional(),
  /** Bytes per second this node may pull for replicas catching up (0 = unthrottled). */
  KV_CATCH_UP_BYTES_PER_SEC: intVar(0, 999_999_999).optional(),
};

export interface KvNodeConfig {
  nodeId: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
  dataDir: string;
  minIsr: number;
  ackTimeoutMs: number;
  leaseMs: number;
  catchUpBytesPerSec: number;
}

function splitTags(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** Reads and validates the kv-node environment; a bad value throws ConfigError naming it. */
export function loadKvConfig(env: NodeJS.ProcessEnv = process.env): KvNodeConfig {
  const e = parseEnv(kvEnvSchema, env);
  return {
    nodeId: e.TESSERA_NODE_ID,
    zone: e.TESSERA_NODE_ZONE,
    rack: e.TESSERA_NODE_RACK,
    capacity: e.TESSERA_NODE_CAPACITY ?? 1,
    tags: [...new Set(splitTags(e.TESSERA_NODE_TAGS ?? ''))],
    dataDir: e.KV_DATA_DIR,
    minIsr: e.KV_MIN_ISR ?? DEFAULT_MIN_ISR,
    ackTimeoutMs: e.KV_ACK_TIMEOUT_MS ?? DEFAULT_ACK_TIMEOUT_MS,
    leaseMs: e.TESSERA_NODE_LEASE_MS ?? DEFAULT_NODE_LEASE_MS,
    catchUpBytesPerSec: e.KV_CATCH_UP_BYTES_PER_SEC ?? DEFAULT_CATCH_UP_BYTES_PER_SEC,
  };
}

/** Injection token of the KvNodeConfig. */
export const KV_CONFIG = Symbol('KV_CONFIG');
