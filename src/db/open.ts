import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export async function openDb(opts: { databaseUrl: string | undefined; dataDir: string; limits?: { databasePoolSize: number } }): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.limits?.databasePoolSize) : openPglite(opts.dataDir);
}
