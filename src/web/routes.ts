import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import { notFound } from '../fhir/outcome.js';
import { PAGE_SCRIPTS, pageScriptSource } from './page-scripts.js';

/** The build copies src/web/static to dist/web/static, so this resolves from either. */
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const PAGES: Record<string, string> = { '/kiosk': 'kiosk.html', '/view': 'view.html' };
const STYLES = new Set(['base.css', 'kiosk.css', 'view.css']);

/**
 * Pages are revalidated on every load (ETag) so a deploy shows at once; assets are unversioned,
 * so they may be reused for a few minutes only. Neither holds patient data: the viewer's link and
 * the kiosk's token stay in the browser.
 */
const PAGE_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=300, must-revalidate';

function sendStatic(res: Response, next: NextFunction, file: string, cacheControl: string) {
  res.setHeader('Cache-Control', cacheControl);
  res.sendFile(file, { root: STATIC_DIR, cacheControl: false, dotfiles: 'deny' }, (err?: Error & { status?: number }) => {
    if (!err || res.headersSent) return;
    next(err.status === 404 ? notFound('This page is missing from the build') : err);
  });
}

/** The kiosk check-in page (GET /kiosk) and the patient viewer (GET /view): static pages, stylesheets and bundled scripts. */
export function webRoutes(): Router {
  const r = Router();
  const scripts = pageScriptSource(STATIC_DIR);
  for (const [path, file] of Object.entries(PAGES)) {
    r.get(path, (_req, res, next) => sendStatic(res, next, file, PAGE_CACHE));
  }
  r.get('/web/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (STYLES.has(file)) return sendStatic(res, next, file, ASSET_CACHE);
    if (!PAGE_SCRIPTS.has(file)) throw notFound('No such file');
    return scripts().then((code) => {
      // express adds a strong ETag, so a reload revalidates instead of downloading again.
      res.setHeader('Cache-Control', ASSET_CACHE);
      res.type('text/javascript; charset=utf-8').send(code.get(file));
    }, next);
  });
  return r;
}
