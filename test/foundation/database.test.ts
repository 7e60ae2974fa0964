import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Db, Queryable } from '../../src/db/db.js';
import { listMigrations, migrate, pendingMigrations } from '../../src/db/migrate.js';
import { openPglite } from '../../src/db/pglite.js';
import { templateFile, templateIsWhole } from '../../src/db/pglite-template.js';
import { openPostgres } from '../../src/db/postgres.js';
import { KeyStore } from '../../src/keys/keystore.js';
import { TEST_DATABASE_URL, createPostgresDatabase, testDatabases } from '../helpers/db.js';

for (const tdb of testDatabases()) {
  describe(`database on ${tdb.name}`, () => {
    after(() => tdb.cleanup());

    test('migrations apply in order, once, and are recorded', async () => {
      const db = await tdb.open({ empty: true });
      const all = listMigrations();
      assert.deepEqual(
        await migrate(db),
        all.map((m) => m.name),
      );
      assert.deepEqual(await migrate(db), []);
      assert.deepEqual(
        await pendingMigrations(
          db,
          all.map((m) => m.name),
        ),
        [],
      );
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migration');
      assert.equal(rows[0]?.n, all.length);
    });

    /** A transaction that inserts a Patient, then fails as `fail` makes it: refused as `rejection`, and nothing kept. */
    async function assertNothingKept(fail: (tx: Queryable) => Promise<void>, rejection: RegExp | ((e: { code?: string }) => boolean)): Promise<void> {
      const db = await tdb.open();
      await migrate(db);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO fhir_resource (resource_type, id, organization, content) VALUES ('Patient', 'p1', 'org', '{}')");
          await fail(tx);
        }),
        rejection,
      );
      assert.equal((await db.query('SELECT * FROM fhir_resource')).rows.length, 0);
    }

    test('a failing transaction rolls back', async () => {
      await assertNothingKept(async () => {
        throw new Error('boom');
      }, /boom/);
    });

    test('a transaction whose caller went past a failed statement is not reported as committed', async () => {
      await assertNothingKept(
        async (tx) => {
          await tx.query('SELECT * FROM no_such_table').catch(() => undefined);
        },
        (e) => e.code === '25P02',
      );
    });

    test('the audit trail is append-only', async () => {
      const db = await tdb.open();
      await migrate(db);
      await db.query("INSERT INTO audit_event (action, subtype, outcome, actor_kind, actor_id) VALUES ('R', 'test', '0', 'system', 'x')");
      await assert.rejects(db.query("UPDATE audit_event SET subtype = 'changed'"), /append-only/);
      await assert.rejects(db.query('DELETE FROM audit_event'), /append-only/);
    });

    test('key rotation keeps old public keys published', async () => {
      const db = await tdb.open();
      await migrate(db);
      const keys = new KeyStore(db, undefined);
      await keys.init();
      const first = keys.signingKey().kid;
      const second = (await keys.rotate()).kid;
      assert.notEqual(first, second);
      assert.deepEqual(
        keys
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
        [first, second].sort(),
      );
      assert.equal(keys.signingKey().kid, second);
    });
  });
}

describe('migrations under concurrency (real PostgreSQL)', { skip: TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
  test('two instances starting together apply each migration exactly once', async () => {
    const { url, drop } = await createPostgresDatabase(TEST_DATABASE_URL!);
    const a = openPostgres(url);
    const b = openPostgres(url);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const names = listMigrations().map((m) => m.name);
      // One instance applied everything, the other found nothing left to do.
      assert.deepEqual([...ra, ...rb].sort(), [...names].sort());
      const { rows } = await a.query<{ n: number }>('SELECT count(*) AS n FROM schema_migration');
      assert.equal(rows[0]?.n, names.length);
      const ka = new KeyStore(a, undefined);
      const kb = new KeyStore(b, undefined);
      await Promise.all([ka.init(), kb.init()]);
      assert.equal(ka.signingKey().kid, kb.signingKey().kid, 'both replicas use one signing key');
    } finally {
      await a.close();
      await b.close();
      await drop();
    }
  });
});

/** Every migration of this build recorded: the database came from the migrated template. */
async function assertFullyMigrated(db: Db): Promise<void> {
  assert.deepEqual(
    await pendingMigrations(
      db,
      listMigrations().map((m) => m.name),
    ),
    [],
  );
}

describe('PGlite templates', () => {
  test('a new data directory starts from the migrated template: every migration recorded, none left to apply', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ktc-template-'));
    try {
      const db = await openPglite(dir);
      try {
        await assertFullyMigrated(db);
        assert.deepEqual(await migrate(db), []);
        await db.query("INSERT INTO audit_event (action, subtype, outcome, actor_kind, actor_id) VALUES ('R', 'test', '0', 'system', 'x')");
      } finally {
        await db.close();
      }
      const again = await openPglite(dir);
      try {
        const { rows } = await again.query<{ n: number }>('SELECT count(*) AS n FROM audit_event');
        assert.equal(rows[0]?.n, 1, 'the second start opens the same data, not a new copy');
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [what, prepare] of [
    ['an empty one (a volume mounted there)', () => undefined],
    ['a copy cut short (no PG_VERSION yet)', (target: string) => writeFileSync(path.join(target, 'postgresql.conf'), 'half')],
  ] as const) {
    test(`an existing data directory that is ${what} is unpacked from the template too`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ktc-template-'));
      try {
        mkdirSync(path.join(dir, 'pglite'));
        prepare(path.join(dir, 'pglite'));
        const db = await openPglite(dir);
        try {
          await assertFullyMigrated(db);
        } finally {
          await db.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('a template cut short is made again, not trusted', async () => {
    const file = templateFile('migrated');
    const whole = statSync(file).size;
    truncateSync(file, 20_000_000);
    assert.equal(templateIsWhole(file), false);
    const db = await openPglite('memory:');
    try {
      assert.equal(statSync(file).size, whole);
      await assertFullyMigrated(db);
    } finally {
      await db.close();
    }
  });

  test('operations keep the order they were issued in; a statement in a transaction runs inside it even when not awaited', async () => {
    const db = await openPglite('memory:', 'initdb');
    try {
      await db.exec('CREATE TABLE t (n int)');
      const insert = db.query('INSERT INTO t VALUES (1)');
      const seen = db.transaction(async (tx) => (await tx.query<{ c: number }>('SELECT count(*)::int AS c FROM t')).rows[0]!.c);
      await insert;
      assert.equal(await seen, 1);
      let pending: Promise<unknown> | undefined;
      await db.transaction(async (tx) => {
        pending = tx.query('INSERT INTO t VALUES (2)');
      });
      await pending;
      assert.equal((await db.query<{ c: number }>('SELECT count(*)::int AS c FROM t')).rows[0]?.c, 2);
    } finally {
      await db.close();
    }
  });

  test('the migrated template has the schema the migrations make', async () => {
    const [fromTemplate, migrated] = [await openPglite('memory:'), await openPglite('memory:', 'initdb')];
    try {
      await migrate(migrated);
      const schema = (db: Db) =>
        db.query("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2").then((r) => r.rows);
      assert.deepEqual(await schema(fromTemplate), await schema(migrated));
    } finally {
      await fromTemplate.close();
      await migrated.close();
    }
  });

  test('the migrated template holds only the database the gateway opens: a first start writes out no template0 or template1', async () => {
    const db = await openPglite('memory:');
    try {
      const { rows } = await db.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1');
      assert.deepEqual(
        rows.map((r) => r.datname),
        ['postgres'],
      );
      assert.equal((await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db, 'postgres');
    } finally {
      await db.close();
    }
  });
});

describe('signing key persistence', () => {
  test('the JWKS key stays the same across restarts on the same DATA_DIR', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ktc-keys-'));
    try {
      const kids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const db = await openPglite(dir);
        await migrate(db);
        const keys = new KeyStore(db, undefined);
        await keys.init();
        kids.push(keys.signingKey().kid);
        await db.close();
      }
      assert.equal(kids[0], kids[1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with KEY_ENCRYPTION_KEY the private key is sealed at rest and needs the key to load', async () => {
    const db = await openPglite('memory:');
    try {
      await migrate(db);
      const kek = Buffer.alloc(32, 7).toString('base64url');
      const keys = new KeyStore(db, kek);
      await keys.init();
      const { rows } = await db.query<{ private_jwk: string; encrypted: boolean }>('SELECT private_jwk, encrypted FROM signing_key');
      assert.equal(rows[0]?.encrypted, true);
      assert.ok(!rows[0]?.private_jwk.includes('"d"'), 'no plaintext private key');
      await assert.rejects(new KeyStore(db, undefined).init(), /KEY_ENCRYPTION_KEY/);
      const again = new KeyStore(db, kek);
      await again.init();
      assert.equal(again.signingKey().kid, keys.signingKey().kid);
    } finally {
      await db.close();
    }
  });
});
