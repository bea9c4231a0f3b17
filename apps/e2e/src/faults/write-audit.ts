import { type Client } from 'pg';

/** A row of the audit installed by `installWriteAudit`. */
export interface AuditRow {
  tbl: string;
  op: string;
  app: string;
  fenced: boolean;
  lease_holder: string | null;
  lease_term: string | null;
}

/** The tables each leased singleton writes under its lease (schema → tables). */
const AUDITED = {
  coordinator: {
    role: 'active-coordinator',
    tables: ['resource', 'partition_map', 'operation', 'map_version', 'outbox', 'node'],
  },
  recovery: { role: 'active-recovery', tables: ['operation', 'outbox'] },
} as const;

export type AuditedSchema = keyof typeof AUDITED;

/**
 * Records every row written to a leased singleton's tables: which process wrote it (each instance
 * connects with application_name `tessera-<instance id>`), whether the transaction was fenced (it
 * holds the share lock that `Lease.fence` takes on the lease row) and the lease as that
 * transaction saw it. A fenced write that lands while someone else holds the lease is exactly a
 * write of an old term.
 */
export async function installWriteAudit(
  db: Client,
  schemas: readonly AuditedSchema[] = ['coordinator'],
): Promise<void> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS public.write_audit (
      id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
      schema_name text NOT NULL, tbl text NOT NULL, op text NOT NULL, app text NOT NULL,
      fenced boolean NOT NULL, lease_holder text NULL, lease_term bigint NULL)`);
  for (const schema of schemas) {
    const { role, tables } = AUDITED[schema];
    await db.query(`
      CREATE FUNCTION public.audit_${schema}_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO public.write_audit (schema_name, tbl, op, app, fenced, lease_holder, lease_term)
        SELECT TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, current_setting('application_name'),
               EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
                         AND relation = '${schema}.lease'::regclass AND mode = 'RowShareLock' AND granted),
               l.holder, l.term
          FROM (SELECT 1) AS one LEFT JOIN ${schema}.lease l ON l.role = '${role}';
        RETURN NULL;
      END $$`);
    for (const table of tables) {
      await db.query(
        `CREATE TRIGGER audit_write AFTER INSERT OR UPDATE OR DELETE ON ${schema}.${table} FOR EACH ROW EXECUTE FUNCTION public.audit_${schema}_write()`,
      );
    }
  }
}

/** The fenced writes recorded so far, in order, optionally of one schema. */
export async function fencedWrites(db: Client, schema?: AuditedSchema): Promise<AuditRow[]> {
  return (
    await db.query<AuditRow>(
      `SELECT tbl, op, app, fenced, lease_holder, lease_term::text AS lease_term
         FROM public.write_audit WHERE fenced AND ($1::text IS NULL OR schema_name = $1) ORDER BY id`,
      [schema ?? null],
    )
  ).rows;
}
