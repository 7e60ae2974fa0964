import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CATALOGUES } from '../../src/web/pages/i18n/catalogue.js';

const PAGES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/demo/pages');
const lookup = (messages: unknown, key: string) => key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)?.[k], messages);

test('every message the demo pages name exists, as text, in every catalogue', () => {
  const pages = readdirSync(PAGES_DIR).filter((f) => f.endsWith('.html'));
  assert.deepEqual(pages.sort(), ['ehr.html', 'index.html', 'scan.html', 'wallet.html']);
  for (const page of pages) {
    const html = readFileSync(path.join(PAGES_DIR, page), 'utf8');
    assert.doesNotMatch(html, /<script|style=|on\w+=/i, `${page}: no inline script or style`);
    const keys = [...html.matchAll(/data-i18n="([^"]+)"/g), ...html.matchAll(/data-i18n-attr="[^=]+=([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(keys.length >= 4, page);
    for (const [lang, messages] of Object.entries(CATALOGUES)) {
      for (const key of keys) assert.equal(typeof lookup(messages, key), 'string', `${lang}: ${key} (${page})`);
    }
  }
});

test('the demo’s Spanish words are translated, not copied from English', () => {
  const leaves = (node: unknown, at: string): [string, unknown][] =>
    typeof node === 'object' && node !== null ? Object.entries(node).flatMap(([k, v]) => leaves(v, `${at}.${k}`)) : [[at, node]];
  const es = new Map(leaves(CATALOGUES.es.demo, 'demo'));
  for (const [key, value] of leaves(CATALOGUES.en.demo, 'demo')) {
    const spanish = es.get(key);
    assert.equal(typeof spanish, typeof value, key);
    const sample = (v: unknown) => (typeof v === 'function' ? (v as (...a: string[]) => string)('X', 'Y') : v);
    assert.notEqual(sample(spanish), sample(value), `${key} is the same in Spanish`);
  }
});
