import { Buffer } from 'node:buffer';
import { type PGlite, parse, protocol } from '@electric-sql/pglite';
import { bindMessage } from './bind-message.js';
import { type QueryResult, TransactionRolledBack } from './db.js';

const { serialize } = protocol;

/** What follows every Bind: describe the portal's rows, run it, end the pipeline. */
const DESCRIBE_EXECUTE_SYNC = Buffer.concat([serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);

/**
 * Enough for every statement the gateway issues repeatedly; statements built per request (a
 * multi-row INSERT of n rows, a search with its filters) come and go at the cold end.
 */
export const MAX_PREPARED = 128;

// Process-wide, so two caches on one connection could never reuse a name.
let named = 0;

/** A transaction's state, which its statements check under the statement lock. */
export interface PgliteTransaction {
  closed: boolean;
  /** BEGIN has been sent. */
  begun: boolean;
}

interface Prepared {
  name: string;
  /** Parameter type OIDs, as PostgreSQL inferred them: they pick PGlite's serializer for each value. */
  paramTypes: number[];
}

/**
 * Named prepared statements on the one PGlite connection, cached by SQL text (least recently used
 * out). PGlite's `query` sends every statement as the unnamed statement, so PostgreSQL parses and
 * plans it again each time; in WebAssembly on the event loop that was most of what a statement
 * cost (a Patient lookup 0.27 ms, prepared 0.09 ms; the subscription candidates 0.65 ms against
 * 0.12 ms). PostgreSQL keeps choosing custom or generic plans per statement as for any client, and
 * re-plans a cached statement when the schema under it changes, except where its result columns
 * would change: the schema only changes in the migrations, which run before anything is cached.
 *
 * Uses PGlite's own locks, serializers and result parser, as its `query` does: `_runExclusiveQuery`
 * for one statement, `_runExclusiveTransaction` around one outside a transaction.
 */
export class PgliteStatements {
  private readonly cache = new Map<string, Prepared>();

  constructor(private readonly db: PGlite) {}

  /**
   * One statement; `tx` is the transaction it belongs to, if any. That transaction is checked under
   * the statement lock: a handle used after its transaction ended must not run in the next one.
   */
  async query<T>(sql: string, params: unknown[], tx?: PgliteTransaction): Promise<QueryResult<T>> {
    await this.db._checkReady();
    const one = () =>
      this.db._runExclusiveQuery(() => {
        if (tx?.closed) throw new Error('Transaction is closed');
        return this.execute<T>(sql, params, tx);
      });
    if (tx) return one();
    const result = await this.db._runExclusiveTransaction(one);
    await this.db.syncToFs();
    return result;
  }

  /** Statements separated by semicolons, no parameters, inside `tx` (migrations). */
  async exec(sql: string, tx: PgliteTransaction): Promise<void> {
    await this.db._runExclusiveQuery(async () => {
      if (tx.closed) throw new Error('Transaction is closed');
      await this.db.execProtocolStream(Buffer.concat([...this.beginning(tx), serialize.query(sql)]), { syncToFs: false });
    });
  }

  /**
   * Runs `fn` in a transaction, as PGlite's own `transaction` does but in fewer passes through the
   * backend: BEGIN goes out with the transaction's first statement and COMMIT alone (PGlite sends each
   * as a query and a Sync, through four async layers), so an empty transaction sends nothing.
   */
  async transaction<T>(fn: (tx: PgliteTransaction) => Promise<T>): Promise<T> {
    await this.db._checkReady();
    const value = await this.db._runExclusiveTransaction(async () => {
      const tx: PgliteTransaction = { closed: false, begun: false };
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        tx.closed = true;
        if (tx.begun) await this.end('ROLLBACK');
        throw e;
      }
      tx.closed = true;
      if (tx.begun) await this.end('COMMIT');
      return result;
    });
    await this.db.syncToFs();
    return value;
  }

  /** How many statements are prepared now (tests). */
  get size(): number {
    return this.cache.size;
  }

  /** BEGIN, when this is the transaction's first statement. */
  private beginning(tx: PgliteTransaction | undefined): Uint8Array[] {
    if (!tx || tx.begun) return [];
    // Marked before it is sent: a statement failing after it still leaves a transaction to roll back.
    tx.begun = true;
    return [serialize.query('BEGIN')];
  }

  private async end(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const messages = await this.db._runExclusiveQuery(() => this.db.execProtocolStream(serialize.query(command), { syncToFs: false }));
    if (command === 'COMMIT' && parse.parseResults(messages, this.db.parsers)[0]?.command === 'ROLLBACK') throw new TransactionRolledBack();
  }

  private async execute<T>(sql: string, params: unknown[], tx: PgliteTransaction | undefined): Promise<QueryResult<T>> {
    const statement = await this.prepared(sql, tx);
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const toText = this.db.serializers[statement.paramTypes[i]!];
      return toText ? toText(v) : String(v);
    });
    // Encoded before `beginning` marks BEGIN as sent: a Bind that cannot be encoded (too many
    // parameters) must not take the transaction's BEGIN with it, or the statements after it run outside one.
    const bind = bindMessage(statement.name, values);
    // One buffer, one pass through the backend: on an error PostgreSQL skips to the Sync, as for any pipelining client.
    const messages = await this.db.execProtocolStream(Buffer.concat([...this.beginning(tx), bind, DESCRIBE_EXECUTE_SYNC]), { syncToFs: false });
    // The statement's result is the last one (a BEGIN sent with it comes first).
    const r = parse.parseResults(messages, this.db.parsers).at(-1);
    // PGlite counts only rows written; pg, and callers, count the rows a SELECT returns too.
    return { rows: (r?.rows ?? []) as T[], rowCount: r?.affectedRows || r?.rows.length || 0 };
  }

  /**
   * The statement, prepared now if it is new. In a transaction not yet begun, BEGIN goes out first:
   * an error at Parse (a missing table) must abort the transaction as it does once the SQL is cached.
   */
  private async prepared(sql: string, tx: PgliteTransaction | undefined): Promise<Prepared> {
    const hit = this.cache.get(sql);
    if (hit) {
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit;
    }
    const name = `ktc_${named++}`;
    const described = await this.db.execProtocolStream(
      Buffer.concat([...this.beginning(tx), serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      {
        syncToFs: false,
      },
    );
    const prepared = { name, paramTypes: parse.parseDescribeStatementResults(described) };
    this.cache.set(sql, prepared);
    if (this.cache.size > MAX_PREPARED) await this.evictOldest();
    return prepared;
  }

  private async evictOldest(): Promise<void> {
    const [sql, oldest] = this.cache.entries().next().value as [string, Prepared];
    this.cache.delete(sql);
    await this.db.execProtocolStream(Buffer.concat([serialize.close({ type: 'S', name: oldest.name }), serialize.sync()]), { syncToFs: false });
  }
}
