import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import * as tar from 'tar';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db, Queryable, QueryResult } from './db.js';
import { type PgliteTransaction, PgliteStatements } from './pglite-statements.js';
import { pgliteTemplate, type TemplateKind } from './pglite-template.js';

/**
 * PGlite runs each statement synchronously behind one mutex, and the next waiter starts in a
 * microtask: a queue of statements would drain as one chain of microtasks, and the event loop would
 * not accept a connection until it was empty (seconds under load). So every operation, inside a
 * transaction too, yields a turn first; all of them do, so they keep the order they were issued in.
 * In a transaction, `issued` collects its statements, so those not awaited still run before it ends.
 */
function wrap(statements: PgliteStatements, db: PGlite, inTx?: { tx: PgliteTransaction; issued: Set<Promise<unknown>> }): Queryable {
  const run = <T>(op: () => Promise<T>): Promise<T> => {
    const p = nextTurn().then(op);
    if (inTx) {
      inTx.issued.add(p);
      const done = () => inTx.issued.delete(p);
      p.then(done, done);
    }
    return p;
  };
  return {
    query: <T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> => run(() => statements.query<T>(sql, params ?? [], inTx?.tx)),
    exec: (sql: string): Promise<void> =>
      run(async () => {
        if (inTx) await statements.exec(sql, inTx.tx);
        else await db.exec(sql);
      }),
  };
}

/**
 * PostgreSQL's default 128 MB of shared buffers live in the WebAssembly memory, which never
 * shrinks; a gateway's working set is far smaller, and 16 MB saves about 110 MiB of RSS.
 * A new 16 MB WAL segment is not zero-filled (wal_init_zero): written 8 kB at a time through
 * Emscripten's file system, on the event loop, that stalled it about 100 ms every 1,500 check-ins
 * in memory (a file there grows by copying). PGlite runs without fsync, so the space the zeros
 * would reserve was never a guarantee.
 */
export const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'wal_buffers=512kB', '-c', 'wal_init_zero=off'];

/**
 * Embedded PostgreSQL. `dataDir` of `memory:` keeps everything in memory (tests). A new database
 * starts as a copy of a template (src/db/pglite-template.ts): by default with this build's
 * migrations already applied, or as initdb left it.
 */
export async function openPglite(dataDir: string, from: TemplateKind = 'migrated'): Promise<Db> {
  return pgliteDb(await createPglite(dataDir, from));
}

/** The PGlite instance itself, opened as `openPglite` opens it. */
export async function createPglite(dataDir: string, from: TemplateKind = 'migrated'): Promise<PGlite> {
  const template = await pgliteTemplate(from);
  if (dataDir === 'memory:') return PGlite.create(undefined, { startParams: START_PARAMS, loadDataDir: new Blob([readFileSync(template)]) });
  const target = `${dataDir.replace(/\/+$/, '')}/pglite`;
  // PG_VERSION is unpacked last: without it the directory is new, empty (a volume mounted there), or a copy cut short.
  if (!existsSync(`${target}/PG_VERSION`)) {
    mkdirSync(target, { recursive: true });
    tar.x({ file: template, cwd: target, sync: true, filter: (p) => !isRootPgVersion(p) });
    tar.x({ file: template, cwd: target, sync: true, filter: isRootPgVersion });
  }
  return PGlite.create(target, { startParams: START_PARAMS });
}

const isRootPgVersion = (entry: string) => entry.replace(/^\/+/, '') === 'PG_VERSION';

export function pgliteDb(db: PGlite): Db {
  const statements = new PgliteStatements(db);
  return {
    kind: 'pglite',
    ...wrap(statements, db),
    async transaction(fn) {
      await nextTurn();
      return statements.transaction(async (tx) => {
        const issued = new Set<Promise<unknown>>();
        try {
          return await fn(wrap(statements, db, { tx, issued }));
        } finally {
          await Promise.allSettled(issued);
        }
      });
    },
    // One embedded connection: notifications never go missing, so `undefined` is never passed.
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    async close() {
      await db.close();
    },
  };
}
