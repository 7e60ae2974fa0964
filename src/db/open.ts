import type { Db } from './db.js';
import { openPostgres } from './postgres.js';

/** PGlite (and its WebAssembly) is only loaded when it is the database: a PostgreSQL deployment never pays for it. */
export async function openDb(opts: { databaseUrl: string | undefined; dataDir: string; limits?: { databasePoolSize: number } }): Promise<Db> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.limits?.databasePoolSize);
  const { openPglite } = await import('./pglite.js');
  return openPglite(opts.dataDir);
}
