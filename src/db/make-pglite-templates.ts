import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from './migrate.js';
import { pgliteDb, START_PARAMS } from './pglite.js';
import { templateFile } from './pglite-template.js';

/**
 * Makes the PGlite templates (src/db/pglite-template.ts) that are missing: initdb in memory, then
 * this build's migrations. Its own process, so initdb's memory goes back to the system when it
 * exits (`npm install` runs it as the `prepare` script). Each tar is written under a temporary name
 * and renamed, so processes racing to make a template each leave a whole file.
 */
async function dump(db: PGlite, file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
  renameSync(partial, file);
}

const initdb = templateFile('initdb');
const migrated = templateFile('migrated');
if (!existsSync(initdb) || !existsSync(migrated)) {
  const fromInitdb = existsSync(initdb);
  const db = await PGlite.create(undefined, { startParams: START_PARAMS, ...(fromInitdb ? { loadDataDir: new Blob([readFileSync(initdb)]) } : {}) });
  if (!fromInitdb) await dump(db, initdb);
  await migrate(pgliteDb(db));
  await dump(db, migrated);
  await db.close();
}
// Templates of other PGlite versions or other migrations are 40 MB each that nothing will read again.
const current = new Set([initdb, migrated].map((f) => path.basename(f)));
for (const f of readdirSync(path.dirname(migrated))) if (f.endsWith('.tar') && !current.has(f)) rmSync(path.join(path.dirname(migrated), f), { force: true });
