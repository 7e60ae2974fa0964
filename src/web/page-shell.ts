import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';

export interface PageShell {
  /** The title in English, which every page starts in: its script switches to the reader's language. */
  title: string;
  /** The catalogue key of the title, so a language switch retitles the page. */
  titleKey: string;
  /** The page's own stylesheet, after the shared base.css. */
  stylesheet: string;
  /** The page's one module script. */
  script: string;
  /** Lines of markup after the language switcher in the page header. */
  header?: readonly string[];
  /** Everything after the header: the <main> and any footer. */
  main: string;
  /** For a page whose URL holds a secret, so it names no referrer even where the Referrer-Policy header is lost (a saved copy). */
  noReferrer?: boolean;
}

/**
 * The document every page shares (the kiosk, the viewer and the demo's pages): nothing inline
 * for the strict CSP to block, and the switcher (#languages) the page's script fills.
 */
export function renderPage(p: PageShell): string {
  const header = (p.header ?? []).map((line) => `  ${line}\n`).join('');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
${p.noReferrer ? '  <meta name="referrer" content="no-referrer">\n' : ''}  <title data-i18n="${p.titleKey}">${p.title}</title>
  <link rel="stylesheet" href="/web/base.css">
  <link rel="stylesheet" href="${p.stylesheet}">
  <script type="module" src="${p.script}"></script>
</head>
<body>
<header class="page-header">
  <nav id="languages" class="switcher" aria-label="Language"></nav>
${header}</header>
${p.main}</body>
</html>
`;
}

/** A page's markup from an .html file, less the comment at its top that says what the file is. */
export function readFragment(file: string): string {
  return readFileSync(file, 'utf8').replace(/^<!--.*?-->\n/s, '');
}

/**
 * Serves a rendered page, revalidated on every load (express adds an ETag) so a deploy shows at
 * once. It holds no patient data: the viewer's link and the kiosk's token stay in the browser.
 */
export function sendPage(html: string): RequestHandler {
  return (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html);
  };
}
