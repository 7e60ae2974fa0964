import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import { notFound } from '../fhir/outcome.js';
import { readFragment, renderPage, sendPage } from './page-shell.js';
import { PAGE_SCRIPTS, pageScriptSource } from './page-scripts.js';

/** The build copies src/web/static to dist/web/static, so this resolves from either. */
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

interface WebPage {
  /** Its body is static/<name>.html, its stylesheet <name>.css, its script <name>.js. */
  name: string;
  /** The title, also the page's heading. */
  title: string;
  titleKey: string;
  /** Markup under the heading. */
  header?: string;
  noReferrer?: boolean;
}

const PAGES: Record<string, WebPage> = {
  '/kiosk': { name: 'kiosk', title: 'Check in', titleKey: 'kiosk.title' },
  // The viewer's URL fragment holds the link's key.
  '/view': { name: 'view', title: 'Your visit summary', titleKey: 'view.title', header: '<p id="label" class="label" hidden></p>', noReferrer: true },
};
const STYLES = new Set(['base.css', 'kiosk.css', 'view.css']);

/** Assets are unversioned, so they may be reused for a few minutes only. */
const ASSET_CACHE = 'public, max-age=300, must-revalidate';

function page({ name, title, titleKey, header, noReferrer }: WebPage): string {
  return renderPage({
    title,
    titleKey,
    stylesheet: `/web/${name}.css`,
    script: `/web/${name}.js`,
    header: [`<h1 data-i18n="${titleKey}">${title}</h1>`, ...(header ? [header] : [])],
    main: readFragment(path.join(STATIC_DIR, `${name}.html`)),
    noReferrer,
  });
}

function sendStatic(res: Response, next: NextFunction, file: string) {
  res.setHeader('Cache-Control', ASSET_CACHE);
  res.sendFile(file, { root: STATIC_DIR, cacheControl: false, dotfiles: 'deny' }, (err?: Error & { status?: number }) => {
    if (!err || res.headersSent) return;
    next(err.status === 404 ? notFound('This page is missing from the build') : err);
  });
}

/** The kiosk check-in page (GET /kiosk) and the patient viewer (GET /view): pages, stylesheets and bundled scripts. */
export function webRoutes(): Router {
  const r = Router();
  const scripts = pageScriptSource(STATIC_DIR);
  for (const [route, p] of Object.entries(PAGES)) r.get(route, sendPage(page(p)));
  r.get('/web/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (STYLES.has(file)) return sendStatic(res, next, file);
    if (!PAGE_SCRIPTS.has(file)) throw notFound('No such file');
    return scripts().then((code) => {
      // express adds a strong ETag, so a reload revalidates instead of downloading again.
      res.setHeader('Cache-Control', ASSET_CACHE);
      res.type('text/javascript; charset=utf-8').send(code.get(file));
    }, next);
  });
  return r;
}
