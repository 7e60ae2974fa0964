import type { Db } from './db.js';

/** Only the database in use is loaded: PGlite and its WebAssembly, or the pg driver (about 35 ms of start). */
export async function openDb(opts: { databaseUrl: string | undefined; dataDir: string; limits?: { databasePoolSize: number } }): Promise<Db> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(opts.databaseUrl, opts.limits?.databasePoolSize);
  }
  const { openPglite } = await import('./pglite.js');
  return openPglite(opts.dataDir);
}
