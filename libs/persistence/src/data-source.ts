import * as pg from 'pg';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { ALL_MIGRATIONS } from './migrations';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tessera';
export const MIGRATIONS_TABLE = 'tessera_migrations';

// node-postgres returns bigint (int8) as strings; epochs stay strings and are parsed to BigInt
// where compared, so no precision is lost silently.

export interface DataSourceConfig {
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  applicationName?: string;
  poolSize?: number;
}

export function dataSourceOptions(config: DataSourceConfig): DataSourceOptions {
  return {
    type: 'postgres',
    // Passed explicitly: TypeORM loads pg lazily, which bundlers and generated package.json miss.
    driver: pg,
    url: config.url,
    entities: config.entities ?? [],
    migrations: ALL_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false, // failures surface as thrown errors, logged by the caller with context
    applicationName: config.applicationName ?? 'tessera',
    extra: {
      max: config.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      // A statement stuck behind a lock must not hang a handler forever.
      statement_timeout: 15_000,
    },
  };
}

export function createDataSource(config: DataSourceConfig): DataSource {
  return new DataSource(dataSourceOptions(config));
}

/** Creates the database named in the URL when it does not exist (developer and test setup). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        // Two processes may race to create it: losing that race is fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops a database (tests clean up the one they made). */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

const MIGRATION_LOCK = 7_413_370; // advisory lock key: services started together migrate one at a time

export async function runMigrations(url: string): Promise<string[]> {
  await ensureDatabase(url);
  const lock = new pg.Client({ connectionString: url, application_name: 'tessera-migrate-lock' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ds = createDataSource({ url, applicationName: 'tessera-migrate', poolSize: 2 });
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    await lock.end(); // ending the session releases the advisory lock
  }
}

export async function revertLastMigration(url: string): Promise<void> {
  const ds = createDataSource({ url, applicationName: 'tessera-migrate', poolSize: 2 });
  await ds.initialize();
  try {
    await ds.undoLastMigration({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
