import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import * as tar from 'tar';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db, Queryable, QueryResult } from './db.js';
import { type PgliteTransaction, PgliteStatements } from './pglite-statements.js';
import { pgliteTemplate, type TemplateKind } from './pglite-template.js';

/**
 * How long a transaction's statements may run back to back before it yields the event loop a turn.
 * A check-in's transaction takes 1–2 ms in all, so it goes out whole.
 */
export const TX_SLICE_MS = 4;

interface OpenTransaction {
  tx: PgliteTransaction;
  /**
   * The transaction's last statement issued (settled either way), which the next one follows; it
   * ends after every earlier one, so awaiting it runs those not awaited before the transaction ends.
   */
  last: Promise<unknown> | undefined;
  /** When the transaction last gave the event loop a turn. */
  sliceStart: number;
}

/**
 * PGlite runs each statement synchronously behind one mutex, and the next waiter starts in a
 * microtask: a queue of statements would drain as one chain of microtasks, and the event loop would
 * not accept a connection until it was empty (seconds under load). So every operation outside a
 * transaction yields a turn first; all of them do, so they keep the order they were issued in.
 *
 * A transaction yields before its first statement, then only when it has run for TX_SLICE_MS: it
 * holds the database throughout anyway, and a turn between its statements let other requests'
 * JavaScript run there, evicting PostgreSQL's code and data from the CPU caches (a statement cost
 * 100–380 µs inside a loaded check-in, 10–25 µs back to back). Its statements follow one another
 * in the order issued.
 */
function wrap(statements: PgliteStatements, db: PGlite, open?: OpenTransaction): Queryable {
  const run = <T>(op: () => Promise<T>): Promise<T> => {
    if (!open) return nextTurn().then(op);
    const afterTurn = () =>
      nextTurn().then(() => {
        open.sliceStart = performance.now();
        return op();
      });
    const p = open.last ? open.last.then(() => (performance.now() - open.sliceStart < TX_SLICE_MS ? op() : afterTurn())) : afterTurn();
    open.last = p.catch(() => undefined);
    return p;
  };
  return {
    query: <T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> => run(() => statements.query<T>(sql, params ?? [], open?.tx)),
    exec: (sql: string): Promise<void> =>
      run(async () => {
        if (open) await statements.exec(sql, open.tx);
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
        const open: OpenTransaction = { tx, last: undefined, sliceStart: 0 };
        try {
          return await fn(wrap(statements, db, open));
        } finally {
          await open.last;
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
