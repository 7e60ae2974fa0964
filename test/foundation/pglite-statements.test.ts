import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import { bindMessage } from '../../src/db/bind-message.js';
import { MAX_PREPARED, PgliteStatements } from '../../src/db/pglite-statements.js';
import { type Db, notify, type Queryable } from '../../src/db/db.js';
import { createPglite, pgliteDb, TX_SLICE_MS } from '../../src/db/pglite.js';

/** A Db on a new in-memory PGlite (and the PGlite under it), closed after `fn`. */
async function withDb(fn: (db: Db, pg: PGlite) => Promise<void>): Promise<void> {
  const pg = await createPglite('memory:', 'initdb');
  const db = pgliteDb(pg);
  try {
    await fn(db, pg);
  } finally {
    await db.close();
  }
}

/** A transaction that has run `sql` and stays open until released, then rolls back; resolves once `sql` has run. */
async function heldTransaction(db: Db, sql: string, params: unknown[]): Promise<{ release: () => void; ended: Promise<string> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let ran!: () => void;
  const running = new Promise<void>((r) => (ran = r));
  const ended = db
    .transaction(async (q) => {
      await q.query(sql, params);
      ran();
      await held;
      throw new Error('roll back');
    })
    .catch(() => 'rolled back');
  await running;
  return { release, ended };
}

describe('PGlite prepared statements', () => {
  let pg: PGlite;
  before(async () => {
    pg = await createPglite('memory:', 'initdb');
    await pg.exec('CREATE TABLE t (id text PRIMARY KEY, n integer, doc jsonb, at timestamptz, tags text[], ok boolean)');
  });
  after(() => pg.close());

  test("values go in and rows come out as PGlite's own query gives them", async () => {
    const statements = new PgliteStatements(pg);
    const at = new Date('2026-11-30T01:02:03.456Z');
    const params = ['a', 7, JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Ñandú' }] }), at, ['x', 'y,z', 'q"uote'], true];
    const insert = 'INSERT INTO t (id, n, doc, at, tags, ok) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *';
    const ours = await statements.query(insert, params);
    const theirs = await pg.query('SELECT * FROM t WHERE id = $1', ['a']);
    assert.deepEqual(ours.rows, theirs.rows);
    assert.equal(ours.rowCount, 1);
    assert.deepEqual((ours.rows[0] as { doc: unknown }).doc, { resourceType: 'Patient', name: [{ family: 'Ñandú' }] });
    assert.deepEqual((ours.rows[0] as { at: Date }).at, at);
    const nulls = await statements.query<{ n: number | null }>('SELECT $1::integer AS n', [null]);
    assert.deepEqual(nulls.rows, [{ n: null }]);
    assert.equal(nulls.rowCount, 1, 'a SELECT counts the rows it returns, as pg does');
    const updated = await statements.query("UPDATE t SET ok = false WHERE id LIKE '%'", []);
    assert.equal(updated.rowCount, 1);
  });

  test('text parameters reach PostgreSQL byte for byte: empty, multi-byte, large, null, and thousands of them', async () => {
    const statements = new PgliteStatements(pg);
    const texts = ['', 'Ñandú', '病歴 😀', 'a\'b"c\\d', 'x'.repeat(200_000)];
    const { rows } = await statements.query<{ v: string | null; bytes: number | null }>(
      `SELECT v, octet_length(v) AS bytes FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i`,
      [texts],
    );
    assert.deepEqual(
      rows.map((r) => r.v),
      texts,
    );
    const each = await statements.query<Record<string, string | null>>(
      `SELECT ${texts.map((_, i) => `$${i + 1}::text AS p${i}, octet_length($${i + 1}::text) AS b${i}`).join(', ')}, $${texts.length + 1}::text AS absent`,
      [...texts, null],
    );
    const row = each.rows[0]!;
    texts.forEach((t, i) => {
      assert.equal(row[`p${i}`], t);
      assert.equal(row[`b${i}`], Buffer.byteLength(t));
    });
    assert.equal(row.absent, null);
    // As many as a 1,000-row insert binds, in a VALUES list as it does.
    const many = Array.from({ length: 3_000 }, (_, i) => String(i));
    const values = many.map((_, i) => `($${i + 1}::int)`).join(', ');
    const sum = await statements.query<{ n: number; s: number }>(`SELECT count(*)::int AS n, sum(v)::int AS s FROM (VALUES ${values}) AS t(v)`, many);
    assert.deepEqual(sum.rows, [{ n: 3_000, s: (3_000 * 2_999) / 2 }]);
  });

  test('a statement whose Bind cannot be encoded (over 65,535 parameters) fails its transaction whole, even as its first statement', async () => {
    await withDb(async (db) => {
      await db.exec('CREATE TABLE v (id integer)');
      await db.query('SELECT 1 AS one', []);
      await assert.rejects(
        db.transaction((tx) =>
          Promise.all([
            tx.query(
              'SELECT 1 AS one',
              Array.from({ length: 65_536 }, () => '1'),
            ),
            tx.query('INSERT INTO v (id) VALUES (1)', []),
          ]),
        ),
        RangeError,
      );
      assert.deepEqual((await db.query('SELECT count(*)::int AS n FROM v')).rows, [{ n: 0 }]);
    });
  });

  test('the Bind message: portal, statement, text formats, lengths, -1 for null, a lone surrogate as U+FFFD', () => {
    assert.deepEqual([...bindMessage('s1', ['é', null, ''])], [0x42, 0, 0, 0, 28, 0, 0x73, 0x31, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0xc3, 0xa9, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    // A lone surrogate goes as U+FFFD, its length counted as written (PGlite's own serializer counted one byte short).
    assert.deepEqual([...bindMessage('s', ['é\uDC00']).subarray(12, 21)], [0, 0, 0, 5, 0xc3, 0xa9, 0xef, 0xbf, 0xbd]);
  });

  test('a statement is prepared once, however often it runs', async () => {
    const statements = new PgliteStatements(pg);
    for (let i = 0; i < 20; i++) assert.deepEqual((await statements.query<{ v: number }>('SELECT $1::integer + 1 AS v', [i])).rows, [{ v: i + 1 }]);
    assert.equal(statements.size, 1);
    const prepared = await pg.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'ktc_%'");
    assert.ok((prepared.rows[0]?.n ?? 0) >= 1);
  });

  test('statements built per request are bounded: the least recently used are closed, and run again when needed', async () => {
    const fresh = await createPglite('memory:', 'initdb');
    try {
      const statements = new PgliteStatements(fresh);
      for (let i = 0; i < MAX_PREPARED + 40; i++) await statements.query(`SELECT ${i} AS v, $1::text AS s`, ['x']);
      assert.equal(statements.size, MAX_PREPARED);
      const live = await fresh.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'ktc_%'");
      assert.equal(live.rows[0]?.n, MAX_PREPARED);
      assert.deepEqual((await statements.query('SELECT 0 AS v, $1::text AS s', ['again'])).rows, [{ v: 0, s: 'again' }]);
    } finally {
      await fresh.close();
    }
  });

  test('an error rolls its transaction back, leaves the connection usable, and prepares nothing broken', async () => {
    await withDb(async (db) => {
      await db.exec('CREATE TABLE u (id text PRIMARY KEY)');
      await db.query('INSERT INTO u (id) VALUES ($1)', ['taken']);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO u (id) VALUES ($1)', ['new']);
          await tx.query('INSERT INTO u (id) VALUES ($1)', ['taken']);
        }),
        (e: { code?: string }) => e.code === '23505',
      );
      assert.deepEqual((await db.query('SELECT id FROM u ORDER BY id')).rows, [{ id: 'taken' }]);
      // Prepared inside the rolled-back transaction, still there after it.
      assert.equal((await db.query('INSERT INTO u (id) VALUES ($1)', ['new'])).rowCount, 1);
      await assert.rejects(db.query('SELEC nonsense', []), (e: { code?: string }) => e.code === '42601');
      assert.deepEqual((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM u')).rows, [{ n: 2 }]);
    });
  });

  test('a statement outside a transaction waits for the running one instead of running inside it', async () => {
    await withDb(async (db) => {
      await db.exec('CREATE TABLE v (id text PRIMARY KEY)');
      const tx = await heldTransaction(db, 'INSERT INTO v (id) VALUES ($1)', ['uncommitted']);
      const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM v', []);
      tx.release();
      assert.equal(await tx.ended, 'rolled back');
      assert.deepEqual((await outside).rows, [{ n: 0 }]);
    });
  });

  test("a transaction's handle used after it ended is refused, and never runs inside the next transaction", async () => {
    await withDb(async (db) => {
      await db.exec('CREATE TABLE w (id text PRIMARY KEY)');
      let leaked!: Queryable;
      await db.transaction(async (tx) => {
        leaked = tx;
        await tx.query('SELECT 1', []);
      });
      await assert.rejects(leaked.query('SELECT 1', []), /Transaction is closed/);
      const other = await heldTransaction(db, 'SELECT 1', []);
      const stray = leaked.query('INSERT INTO w (id) VALUES ($1)', ['stray']).catch((e: Error) => e.message);
      other.release();
      assert.equal(await other.ended, 'rolled back');
      assert.equal(await stray, 'Transaction is closed');
      assert.deepEqual((await db.query('SELECT id FROM w', [])).rows, []);
    });
  });

  test('BEGIN goes out with the first statement and COMMIT alone: an empty transaction sends nothing', async () => {
    await withDb(async (db, pg) => {
      await db.exec('CREATE TABLE x (id text PRIMARY KEY)');
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO x (id) VALUES ($1)', ['warm']);
      });
      let passes = 0;
      const send = pg.execProtocolStream.bind(pg);
      pg.execProtocolStream = (message, options) => {
        passes += 1;
        return send(message, options);
      };
      await db.transaction(async () => undefined);
      assert.equal(passes, 0);
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO x (id) VALUES ($1)', ['a']);
        await tx.query('INSERT INTO x (id) VALUES ($1)', ['b']);
      });
      assert.equal(passes, 3, 'BEGIN with the first insert, the second insert, COMMIT');
      assert.deepEqual((await db.query('SELECT id FROM x ORDER BY id')).rows, [{ id: 'a' }, { id: 'b' }, { id: 'warm' }]);
    });
  });

  test('a failed statement the caller went past makes COMMIT fail, and nothing of the transaction is kept', async () => {
    await withDb(async (db) => {
      await db.exec('CREATE TABLE y (id text PRIMARY KEY)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO y (id) VALUES ($1)', ['a']);
          await tx.query('INSERT INTO y (id) VALUES ($1)', ['a']).catch(() => undefined);
        }),
        (e: { code?: string }) => e.code === '25P02',
      );
      // The first statement failing when PostgreSQL parses it (never prepared before): BEGIN went out ahead of it.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('SELECT * FROM no_such_table', []).catch(() => undefined);
          await tx.query('INSERT INTO y (id) VALUES ($1)', ['b']);
        }),
        (e: { code?: string }) => e.code === '25P02',
      );
      assert.deepEqual((await db.query('SELECT id FROM y')).rows, []);
      assert.equal((await db.query('INSERT INTO y (id) VALUES ($1)', ['a'])).rowCount, 1, 'the connection is out of the failed transaction');
    });
  });

  test("a transaction's exec (the migrations) and its NOTIFY are rolled back with it, and kept by COMMIT", async () => {
    await withDb(async (db) => {
      const heard: (string | undefined)[] = [];
      const stop = await db.listen('pglite_tx_test', (payload) => heard.push(payload));
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.exec('CREATE TABLE z (id integer); INSERT INTO z VALUES (1)');
          await notify(tx, 'pglite_tx_test', 'rolled back');
          throw new Error('stop');
        }),
        /stop/,
      );
      await assert.rejects(db.query('SELECT id FROM z'), (e: { code?: string }) => e.code === '42P01');
      await db.transaction(async (tx) => {
        await tx.exec('CREATE TABLE z (id integer); INSERT INTO z VALUES (2)');
        await notify(tx, 'pglite_tx_test', 'committed');
      });
      assert.deepEqual((await db.query('SELECT id FROM z')).rows, [{ id: 2 }]);
      for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(heard, ['committed']);
      await stop();
    });
  });

  test('a transaction runs its statements back to back, and gives the event loop a turn once it has run for its slice', async () => {
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    try {
      await withDb(async (db) => {
        await db.exec('CREATE TABLE t (n int)');
        setImmediate(count);
        const short = await db.transaction(async (tx) => {
          const before = turns;
          for (let i = 0; i < 20; i++) await tx.query('INSERT INTO t VALUES ($1)', [i]);
          return turns - before;
        });
        // A slice is far longer than 20 inserts take; a pause of the whole process (GC, a busy machine) may still end one.
        assert.ok(short < 5, `20 short statements gave the loop ${short} turns`);
        const long = await db.transaction(async (tx) => {
          const before = turns;
          const started = performance.now();
          while (performance.now() - started < 3 * TX_SLICE_MS) await tx.query('SELECT count(*) FROM t');
          return turns - before;
        });
        assert.ok(long >= 2, `a transaction running three slices gave the loop ${long} turns`);
      });
    } finally {
      counting = false;
    }
  });
});
