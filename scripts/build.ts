/**
 * Builds dist/ for `npm start` and the container image: every server module of src/ transpiled by
 * esbuild, one file each (types are checked by `npm run typecheck`, part of `npm test`), the JSON
 * data and static files copied beside them, and the pages' scripts bundled. The demo and the pages'
 * browser sources are not part of the server.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { writePageScripts } from '../src/web/page-scripts.js';

const SRC = 'src';
const OUT = 'dist';
const NOT_SERVER = [path.join(SRC, 'demo'), path.join(SRC, 'web', 'pages')];

const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .map((f) => path.join(SRC, f))
  .filter((f) => !NOT_SERVER.some((dir) => f.startsWith(dir + path.sep)));

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: files.filter((f) => f.endsWith('.ts')),
  outdir: OUT,
  outbase: SRC,
  platform: 'node',
  format: 'esm',
  target: 'node20.10',
  logLevel: 'warning',
});
for (const f of files.filter((f) => f.endsWith('.json'))) cpSync(f, path.join(OUT, path.relative(SRC, f)));
cpSync(path.join(SRC, 'web', 'static'), path.join(OUT, 'web', 'static'), { recursive: true });
await writePageScripts(path.join(OUT, 'web', 'static'));
