import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import { notFound } from '../fhir/outcome.js';

/** The build copies src/web/static to dist/web/static, so this resolves from either. */
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const PAGES: Record<string, string> = { '/kiosk': 'kiosk.html', '/view': 'view.html' };
const ASSETS = new Set(['base.css', 'kiosk.js', 'kiosk-mdl.js', 'kiosk.css', 'view.js', 'view.css']);

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

/** The kiosk check-in page (GET /kiosk) and the patient viewer (GET /view), plain static files. */
export function webRoutes(): Router {
  const r = Router();
  for (const [path, file] of Object.entries(PAGES)) {
    r.get(path, (_req, res, next) => sendStatic(res, next, file, PAGE_CACHE));
  }
  r.get('/web/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!ASSETS.has(file)) throw notFound('No such file');
    sendStatic(res, next, file, ASSET_CACHE);
  });
  return r;
}
