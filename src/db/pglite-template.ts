import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listMigrations } from './migrate.js';

/**
 * New PGlite databases start as a copy of a template: a data directory as initdb leaves it, and one
 * with this build's migrations applied, kept as tars beside the installed PGlite. initdb in
 * WebAssembly takes seconds and leaves hundreds of MiB of heap in the process that ran it, and the
 * migrations another half second, so both run once, in a child process: at `npm install` (the
 * `prepare` script) or at the first start that finds a template missing.
 */
export type TemplateKind = 'initdb' | 'migrated';

// The package does not export its package.json; its entry point is dist/ under the package root.
const PGLITE_ROOT = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..');
const PGLITE_VERSION = (JSON.parse(readFileSync(path.join(PGLITE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = path.join(PROJECT_ROOT, 'node_modules/.cache/ktc-gateway');

/**
 * Where a template is kept: per PGlite version, and for the migrated one per set of migrations
 * (hashed once) and per recipe (`v2`: only the `postgres` database), so a template made by an
 * older recipe is made again.
 */
export function templateFile(kind: TemplateKind): string {
  if (kind === 'initdb') return path.join(CACHE_DIR, `pglite-${PGLITE_VERSION}-initdb.tar`);
  migratedFile ??= path.join(CACHE_DIR, `pglite-${PGLITE_VERSION}-migrated-v2-${migrationsHash()}.tar`);
  return migratedFile;
}

let migratedFile: string | undefined;

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const m of listMigrations()) hash.update(`${m.name}\0${m.sql}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** A template written whole: its size is the one recorded beside it after it was written and synced. */
export function templateIsWhole(file: string): boolean {
  try {
    return statSync(file).size === Number(readFileSync(`${file}.bytes`, 'utf8'));
  } catch {
    return false;
  }
}

let making: Promise<void> | undefined;

/** The template's path, making the templates in a child process first if it is not there yet. */
export async function pgliteTemplate(kind: TemplateKind): Promise<string> {
  const file = templateFile(kind);
  if (templateIsWhole(file)) return file;
  making ??= makeTemplates().finally(() => {
    making = undefined;
  });
  await making;
  return file;
}

function makeTemplates(): Promise<void> {
  const entry = fileURLToPath(import.meta.url).replace(/pglite-template\.(ts|js)$/, (_, ext: string) => `make-pglite-templates.${ext}`);
  // Not this process's execArgv: it may hold `-e` code, which the child would run again. From the
  // project root, where `tsx` resolves whatever directory the gateway was started from.
  const execArgv = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, entry], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`making the PGlite templates failed (exit ${code}): ${stderr.trim()}`))));
  });
}
