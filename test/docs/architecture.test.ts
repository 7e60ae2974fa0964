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

test('every folder of src/ is named in docs/architecture.md', () => {
  const folders = readdirSync(path.join(root, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `src/${d.name}/`);
  assert.deepEqual(
    folders.filter((f) => !named.has(f)),
    [],
  );
});

test('every top-level source file it names exists', () => {
  for (const [, file] of doc.matchAll(/`([a-z-]+\.ts)`/g)) assert.ok(existsSync(path.join(root, 'src', file!)), `src/${file} is named but does not exist`);
});
