import { TOKEN_PATTERN, TOKEN_RULE } from '@tessera/contracts';
import { parseEnv } from '@tessera/service-kit';
import { z } from 'zod';

export const MAX_NODE_TAGS = 32;
export const MAX_NODE_CAPACITY = 1_000_000;

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
};

export interface KvNodeConfig {
  nodeId: string;
  zone: string;
  rack: string;
  capacity: number;
  tags: string[];
  dataDir: string;
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
  };
}

/** Injection token of the KvNodeConfig. */
export const KV_CONFIG = Symbol('KV_CONFIG');
