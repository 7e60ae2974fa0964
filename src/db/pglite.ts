import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';

function wrap(conn: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await conn.query<T>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await conn.exec(sql);
    },
  };
}

/** Embedded PostgreSQL. `dataDir` of `memory:` keeps everything in memory (tests). */
export async function openPglite(dataDir: string): Promise<Db> {
  let target: string | undefined;
  if (dataDir !== 'memory:') {
    mkdirSync(dataDir, { recursive: true });
    target = `${dataDir.replace(/\/+$/, '')}/pglite`;
  }
  const db = target ? await PGlite.create(target) : await PGlite.create();
  const base = wrap(db);
  return {
    kind: 'pglite',
    ...base,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    // One embedded connection: notifications never go missing, so `undefined` is never passed.
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    async close() {
      await db.close();
    },
  };
}
