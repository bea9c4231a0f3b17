import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { TOKEN_PATTERN } from '@tessera/contracts';
import { DEFAULT_DATABASE_URL } from '@tessera/persistence';
import { type NatsSettings } from '@tessera/messaging';

export const SERVICE_NAMES = ['coordinator', 'health', 'consensus', 'replication', 'recovery', 'kv-node'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_HTTP_PORTS: Record<ServiceName, number> = {
  coordinator: 3000,
  health: 3001,
  consensus: 3002,
  replication: 3003,
  recovery: 3004,
  'kv-node': 0,
};

const fileVar = z
  .string()
  .min(1)
  .refine((p) => existsSync(p), { message: 'file does not exist' })
  .optional();

const natsUrl = z
  .string()
  .refine((v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s,]+$/.test(u.trim())), {
    message: 'expected comma-separated nats://host:port URLs',
  });

/** Environment every service reads (API.md); services extend it with their own variables. */
export const baseEnvSchema = {
  TESSERA_CLUSTER: z.string().regex(TOKEN_PATTERN, 'expected letters, digits, "_" or "-"').default('default'),
  TESSERA_NATS_URL: natsUrl.default('nats://127.0.0.1:4222'),
  TESSERA_NATS_USER: z.string().min(1).optional(),
  TESSERA_NATS_PASS: z.string().optional(),
  TESSERA_NATS_TOKEN: z.string().min(1).optional(),
  TESSERA_NATS_CREDS: fileVar,
  TESSERA_NATS_TLS_CA: fileVar,
  TESSERA_NATS_TLS_CERT: fileVar,
  TESSERA_NATS_TLS_KEY: fileVar,
  TESSERA_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// URL')
    .default(DEFAULT_DATABASE_URL),
  TESSERA_HTTP_PORT: z.coerce
    .number({ error: 'expected an integer 0–65535' })
    .int('expected an integer 0–65535')
    .min(0, 'expected an integer 0–65535')
    .max(65535, 'expected an integer 0–65535')
    .optional(),
  TESSERA_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  TESSERA_ADMIN_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  TESSERA_MIGRATE: z.enum(['true', 'false']).default('false'),
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TESSERA_INSTANCE_ID: z.string().regex(TOKEN_PATTERN).optional(),
  TESSERA_RATE_LIMIT_PER_MINUTE: z.coerce
    .number({ error: 'expected a positive integer' })
    .int('expected a positive integer')
    .min(1, 'expected a positive integer')
    .default(6000),
};

export interface BaseConfig {
  service: ServiceName;
  cluster: string;
  instanceId: string;
  nats: NatsSettings;
  databaseUrl: string;
  httpPort: number;
  httpHost: string;
  adminToken: string | undefined;
  migrate: boolean;
  logLevel: string;
  rateLimitPerMinute: number;
}

/** A bad environment is one line naming the variable, and exit code 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    const raw = env[name];
    const got = raw === undefined ? 'it is not set' : `got "${raw.length > 60 ? raw.slice(0, 60) + '…' : raw}"`;
    throw new ConfigError(`invalid environment: ${name}: ${issue.message} (${got})`);
  }
  return result.data;
}

export function loadBaseConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): BaseConfig {
  const e = parseEnv(baseEnvSchema, env);
  if (e.TESSERA_NATS_PASS !== undefined && e.TESSERA_NATS_USER === undefined) {
    throw new ConfigError('invalid environment: TESSERA_NATS_PASS: set without TESSERA_NATS_USER');
  }
  return {
    service,
    cluster: e.TESSERA_CLUSTER,
    instanceId: e.TESSERA_INSTANCE_ID ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}`,
    nats: {
      servers: e.TESSERA_NATS_URL.split(',').map((s) => s.trim()),
      user: e.TESSERA_NATS_USER,
      pass: e.TESSERA_NATS_PASS,
      token: e.TESSERA_NATS_TOKEN,
      credsFile: e.TESSERA_NATS_CREDS,
      tlsCaFile: e.TESSERA_NATS_TLS_CA,
      tlsCertFile: e.TESSERA_NATS_TLS_CERT,
      tlsKeyFile: e.TESSERA_NATS_TLS_KEY,
    },
    databaseUrl: e.TESSERA_DATABASE_URL,
    httpPort: e.TESSERA_HTTP_PORT ?? DEFAULT_HTTP_PORTS[service],
    httpHost: e.TESSERA_HTTP_HOST,
    adminToken: e.TESSERA_ADMIN_TOKEN,
    migrate: e.TESSERA_MIGRATE === 'true',
    logLevel: e.TESSERA_LOG_LEVEL,
    rateLimitPerMinute: e.TESSERA_RATE_LIMIT_PER_MINUTE,
  };
}
