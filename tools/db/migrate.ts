/**
 * `npm run db:migrate` applies every pending migration to TESSERA_DATABASE_URL (creating the
 * database if needed); `npm run db:revert` reverts the last one.
 */
import { DEFAULT_DATABASE_URL, revertLastMigration, runMigrations } from '@tessera/persistence';

async function run(): Promise<void> {
  const url = process.env['TESSERA_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const target = new URL(url);
  const where = `${target.host}${target.pathname}`;
  if (process.argv.includes('--revert')) {
    await revertLastMigration(url);
    process.stdout.write(`db: reverted the last migration on ${where}\n`);
    return;
  }
  const applied = await runMigrations(url);
  process.stdout.write(
    applied.length === 0
      ? `db: ${where} is up to date\n`
      : `db: applied ${applied.length} migration(s) on ${where}: ${applied.join(', ')}\n`,
  );
}

run().catch((error: unknown) => {
  process.stderr.write(`db: migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
