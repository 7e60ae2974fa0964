import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');

/** Every `src/…/` folder the page names (a trailing slash marks a folder). */
const named = new Set([...doc.matchAll(/\bsrc\/((?:[a-z0-9-]+\/)+)/g)].map((m) => `src/${m[1]}`));

test('every folder docs/architecture.md names exists', () => {
  assert.ok(named.size > 5, 'the page names the folders');
  for (const folder of named) assert.ok(existsSync(path.join(root, folder)) && statSync(path.join(root, folder)).isDirectory(), `${folder} is named but does not exist`);
});

/** Every folder under src/, at any depth, as `src/a/b/`. */
function sourceFolders(dir = 'src'): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => [`${dir}/${d.name}/`, ...sourceFolders(`${dir}/${d.name}`)]);
}

test('every folder of src/, at any depth, is named in docs/architecture.md', () => {
  const folders = sourceFolders();
  assert.ok(folders.includes('src/identity/mdl/'), 'nested folders are listed');
  assert.deepEqual(
    folders.filter((f) => !named.has(f)),
    [],
  );
});

test('as the page says, nothing outside src/demo/ imports the demo', () => {
  const files = sourceFolders()
    .filter((f) => !f.startsWith('src/demo/'))
    .flatMap((f) => readdirSync(path.join(root, f)).map((n) => path.join(f, n)))
    .concat(readdirSync(path.join(root, 'src')).map((n) => path.join('src', n)))
    .filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50);
  for (const f of files) assert.doesNotMatch(readFileSync(path.join(root, f), 'utf8'), /from '(\.\.?\/)+demo\//, `${f} imports the demo`);
});

test('every top-level source file it names exists', () => {
  for (const [, file] of doc.matchAll(/`([a-z-]+\.ts)`/g)) assert.ok(existsSync(path.join(root, 'src', file!)), `src/${file} is named but does not exist`);
});
