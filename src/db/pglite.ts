import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import * as tar from 'tar';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db, Queryable, QueryResult } from './db.js';
import { pgliteTemplate, type TemplateKind } from './pglite-template.js';

function wrap(conn: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      await nextTurn();
      const r = await conn.query<T>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await nextTurn();
      await conn.exec(sql);
    },
  };
}

/**
 * PostgreSQL's default 128 MB of shared buffers live in the WebAssembly memory, which never
 * shrinks; a gateway's working set is far smaller, and 16 MB saves about 110 MiB of RSS.
 */
export const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'wal_buffers=512kB'];

/**
 * Embedded PostgreSQL. `dataDir` of `memory:` keeps everything in memory (tests). A new database
 * starts as a copy of a template (src/db/pglite-template.ts): by default with this build's
 * migrations already applied, or as initdb left it.
 */
export async function openPglite(dataDir: string, from: TemplateKind = 'migrated'): Promise<Db> {
  const template = await pgliteTemplate(from);
  if (dataDir === 'memory:') return pgliteDb(await PGlite.create(undefined, { startParams: START_PARAMS, loadDataDir: new Blob([readFileSync(template)]) }));
  const target = `${dataDir.replace(/\/+$/, '')}/pglite`;
  if (!existsSync(target)) {
    // Unpacked beside and renamed, so a start interrupted here never leaves half a data directory.
    const partial = `${target}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    tar.x({ file: template, cwd: partial, sync: true });
    renameSync(partial, target);
  }
  return pgliteDb(await PGlite.create(target, { startParams: START_PARAMS }));
}

export function pgliteDb(db: PGlite): Db {
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    // One embedded connection: notifications never go missing, so `undefined` is never passed.
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    async close() {
      await db.close();
    },
  };
}
