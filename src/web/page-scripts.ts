import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pages' scripts are TypeScript (src/web/pages) bundled by esbuild. `npm run build` writes the
 * bundles next to the static files (dist/web/static); when they are not there (running from src
 * with `npm start`), they are bundled in memory once, at the first request for one.
 */

const PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));
const ENTRIES: Record<string, string> = { 'view.js': 'view/main.ts', 'kiosk.js': 'kiosk/main.ts' };
export const PAGE_SCRIPTS = new Set(Object.keys(ENTRIES));

const pageEntries = () => Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, path.join(PAGES_DIR, src)]));

export function bundlePageScripts(): Promise<Map<string, string>> {
  return bundleScripts(pageEntries());
}

/** Bundles browser entry points (output name → absolute source path) in memory; also used by the demo's pages. */
export async function bundleScripts(entries: Record<string, string>): Promise<Map<string, string>> {
  // esbuild is a build tool: a server started from dist/ never loads it.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: Object.entries(entries).map(([out, src]) => ({ in: src, out: out.replace(/\.js$/, '') })),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    outdir: 'bundles',
    logLevel: 'silent',
  });
  return new Map(result.outputFiles.map((f) => [path.basename(f.path), f.text]));
}

/** For the build: the bundles as files in `dir`. */
export async function writePageScripts(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [name, code] of await bundlePageScripts()) writeFileSync(path.join(dir, name), code);
}

/** The scripts, prebuilt in `staticDir` when the build wrote them, else bundled now (once). */
export function pageScriptSource(staticDir: string): () => Promise<Map<string, string>> {
  const bundled = bundledOnce(pageEntries());
  return () => {
    const prebuilt = [...PAGE_SCRIPTS].every((name) => existsSync(path.join(staticDir, name)));
    if (prebuilt) return Promise.resolve(new Map([...PAGE_SCRIPTS].map((name) => [name, readFileSync(path.join(staticDir, name), 'utf8')])));
    return bundled();
  };
}

/** Bundles `entries` at the first call and keeps the result; a failed bundle is tried again at the next call. */
export function bundledOnce(entries: Record<string, string>): () => Promise<Map<string, string>> {
  let bundles: Promise<Map<string, string>> | undefined;
  return () =>
    (bundles ??= bundleScripts(entries).catch((e: unknown) => {
      bundles = undefined;
      throw e;
    }));
}
