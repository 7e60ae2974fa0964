import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { openPostgres } from '../../src/db/postgres.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /**
   * A fresh database: PGlite in memory (from the migrated template, or initdb's with `empty`), or a
   * new, empty PostgreSQL database. Tests migrate it; on the migrated template that finds nothing to do.
   */
  open(opts?: { empty?: boolean }): Promise<Db>;
  /** For PostgreSQL: the connection string of the last opened database (child-process tests). */
  url?: string;
  /** Drops what open() created. */
  cleanup(): Promise<void>;
}

/** A throwaway PostgreSQL database per call, so test files (and parallel runs) never share state. */
export async function createPostgresDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ktc_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The databases every database test runs against: PGlite always, real PostgreSQL when
 * TEST_DATABASE_URL is set (.ci/run sets it). The skip reason is printed once.
 */
export function testDatabases(): TestDatabase[] {
  const list: TestDatabase[] = [];
  const pgliteDbs: Db[] = [];
  list.push({
    name: 'pglite',
    open: async (opts) => {
      const db = await openPglite('memory:', opts?.empty ? 'initdb' : 'migrated');
      pgliteDbs.push(db);
      return db;
    },
    cleanup: async () => {
      await Promise.all(pgliteDbs.splice(0).map((d) => d.close().catch(() => undefined)));
    },
  });
  if (TEST_DATABASE_URL) {
    const created: { db: Db; drop: () => Promise<void> }[] = [];
    const entry: TestDatabase = {
      name: 'postgres',
      open: async () => {
        const { url, drop } = await createPostgresDatabase(TEST_DATABASE_URL);
        entry.url = url;
        const db = openPostgres(url);
        created.push({ db, drop });
        return db;
      },
      cleanup: async () => {
        for (const c of created.splice(0)) {
          await c.db.close().catch(() => undefined);
          await c.drop().catch(() => undefined);
        }
      },
    };
    list.push(entry);
  } else if (!warned) {
    warned = true;
    process.stdout.write('# real PostgreSQL tests skipped: TEST_DATABASE_URL is not set\n');
  }
  return list;
}
let warned = false;
