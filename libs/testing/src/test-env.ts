import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import {
  dropDatabase,
  ensureDatabase,
  runMigrations,
  DEFAULT_DATABASE_URL,
} from '@tessera/persistence';
import { eventStreamName } from '@tessera/contracts';

export const TEST_NATS_URL = process.env['TESSERA_NATS_URL'] ?? 'nats://127.0.0.1:4222';

export interface TestEnv {
  /** A fresh cluster name: every NATS subject and the event stream are namespaced by it. */
  cluster: string;
  /** A fresh database, migrated. */
  databaseUrl: string;
  natsUrl: string;
  /** The TESSERA_* environment for a service process of this suite. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Drops the database and the cluster's event stream. */
  destroy(): Promise<void>;
}

/** Each suite gets its own database and TESSERA_CLUSTER (RELIABILITY.md: tests never share state). */
export async function createTestEnv(
  prefix: string,
  options: {
    migrate?: boolean;
    /** A NATS server of the suite's own (default TEST_NATS_URL). */ natsUrl?: string;
    /** A Postgres server of the suite's own (default TESSERA_DATABASE_URL's server). */
    postgresUrl?: string;
  } = {},
): Promise<TestEnv> {
  const natsUrl = options.natsUrl ?? TEST_NATS_URL;
  const id = `${prefix
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}${randomBytes(3).toString('hex')}`;
  const cluster = `t-${id}`;
  const base = new URL(
    options.postgresUrl ?? process.env['TESSERA_DATABASE_URL'] ?? DEFAULT_DATABASE_URL,
  );
  base.pathname = `/tessera_test_${id}`;
  const databaseUrl = base.toString();
  if (options.migrate === false) await ensureDatabase(databaseUrl);
  else await runMigrations(databaseUrl);
  return {
    cluster,
    databaseUrl,
    natsUrl,
    env: (extra = {}) => ({
      TESSERA_CLUSTER: cluster,
      TESSERA_DATABASE_URL: databaseUrl,
      TESSERA_NATS_URL: natsUrl,
      TESSERA_LOG_LEVEL: process.env['TESSERA_TEST_LOG_LEVEL'] ?? 'warn',
      ...extra,
    }),
    destroy: async () => {
      await dropDatabase(databaseUrl);
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.delete(eventStreamName(cluster)).catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails after the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: last error ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${what}${reason}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
