/**
 * The one database interface the gateway codes against. Two implementations (PGlite embedded,
 * pg.Pool for a real server) run the same SQL; nothing outside src/db knows which one it has.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Several statements separated by semicolons, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn inside BEGIN/COMMIT on one connection; rolls back if fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` with the payload of every NOTIFY on `channel` from now on, whichever connection
   * or replica sent it (PostgreSQL LISTEN/NOTIFY); also with `undefined` after the listening
   * connection was lost and restored, when notifications may have been missed. The returned function stops.
   */
  listen(channel: string, onNotify: (payload: string | undefined) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * COMMIT of a transaction in which a statement failed and the caller went on: PostgreSQL rolls it
 * back and answers ROLLBACK, which would otherwise look like success. Code 25P02, as PostgreSQL
 * reports a statement in such a transaction.
 */
export class TransactionRolledBack extends Error {
  readonly code = '25P02';
  constructor() {
    super('The transaction was rolled back: one of its statements failed');
    this.name = 'TransactionRolledBack';
  }
}

/** Queues a NOTIFY on `channel`; inside a transaction it is sent at COMMIT, and not at all on rollback. */
export async function notify(q: Queryable, channel: string, payload: string): Promise<void> {
  await q.query('SELECT pg_notify($1, $2)', [channel, payload]);
}
