import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
// The pages' browser code is bundled into static files at build time; the demo runs from the repository.
const NOT_SERVER = ['src/web/pages/', 'src/demo/'];

/** Packages the server's code loads at run time: static imports and import(), not `import type`. */
function runtimePackages(): Map<string, string> {
  const found = new Map<string, string>();
  const files = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .map((f) => `src/${f.split(path.sep).join('/')}`)
    .filter((f) => f.endsWith('.ts') && !NOT_SERVER.some((dir) => f.startsWith(dir)));
  for (const file of files) {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    const specifiers = [
      ...source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gms),
      ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const s of specifiers) {
      if (s.startsWith('.') || s.startsWith('node:') || builtinModules.includes(s)) continue;
      const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
      if (!found.has(name)) found.set(name, file);
    }
  }
  return found;
}

test('every package the server loads at run time is a production dependency (the image installs without devDependencies, and a package loaded at first use would fail only then)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const used = runtimePackages();
  assert.ok(used.has('undici') && used.has('@anthropic-ai/sdk') && used.has('express'), 'the scan finds static and dynamic imports');
  const missing = [...used].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(missing, []);
});
