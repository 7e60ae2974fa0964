import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from './migrate.js';
import { pgliteDb, START_PARAMS } from './pglite.js';
import { templateFile, templateIsWhole } from './pglite-template.js';

/**
 * Makes the PGlite templates (src/db/pglite-template.ts) that are missing: initdb in memory, then
 * this build's migrations. Its own process, so initdb's memory goes back to the system when it
 * exits (`npm install` runs it as the `prepare` script). Each tar is written under a temporary name
 * and renamed, so processes racing to make a template each leave a whole file.
 */
async function dump(db: PGlite, file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const bytes = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
  const partial = `${file}.${process.pid}.partial`;
  const fd = openSync(partial, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  // Written last: a template is only used when its size is the one recorded here.
  writeFileSync(`${file}.bytes`, String(bytes.length));
}

/**
 * PGlite opens the `postgres` database and never creates another, so the migrated template drops
 * template0 and template1: 600 of its 1,100 files, which a first start writes out one by one (about
 * 0.3 s on a slow disk).
 */
async function keepOnlyTheGatewayDatabase(db: PGlite): Promise<void> {
  // One statement each: DROP DATABASE refuses to run inside the implicit transaction of a multi-statement string.
  for (const name of ['template0', 'template1']) {
    await db.exec(`ALTER DATABASE ${name} IS_TEMPLATE false`);
    await db.exec(`DROP DATABASE ${name}`);
  }
  await db.exec('CHECKPOINT');
}

const initdb = templateFile('initdb');
const migrated = templateFile('migrated');
if (!templateIsWhole(initdb) || !templateIsWhole(migrated)) {
  const fromInitdb = templateIsWhole(initdb);
  const db = await PGlite.create(undefined, { startParams: START_PARAMS, ...(fromInitdb ? { loadDataDir: new Blob([readFileSync(initdb)]) } : {}) });
  if (!fromInitdb) await dump(db, initdb);
  await migrate(pgliteDb(db));
  await keepOnlyTheGatewayDatabase(db);
  await dump(db, migrated);
  await db.close();
}
// Templates of other PGlite versions or other migrations are 40 MB each that nothing will read again.
const current = new Set([initdb, migrated].flatMap((f) => [path.basename(f), `${path.basename(f)}.bytes`]));
for (const f of readdirSync(path.dirname(migrated))) if (/\.tar(\.bytes)?$/.test(f) && !current.has(f)) rmSync(path.join(path.dirname(migrated), f), { force: true });
