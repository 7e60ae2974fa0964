import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { errorHandler, notFoundRoute } from '../../src/http/errors.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { createLogger } from '../../src/log.js';
import { LABEL_MAX } from '../../src/shl/constants.js';
import { CATALOGUES } from '../../src/web/pages/i18n/catalogue.js';
import { webRoutes } from '../../src/web/routes.js';

const app = express()
  .use(securityHeaders)
  .use(webRoutes())
  .use(notFoundRoute)
  .use(errorHandler(createLogger('silent')));

describe('static pages', () => {
  for (const [path, title] of [
    ['/kiosk', /<title data-i18n="kiosk.title">Check in<\/title>/],
    ['/view', /<title data-i18n="view.title">Your visit summary<\/title>/],
  ] as const) {
    test(`GET ${path} is the page, revalidated on every load, under the strict CSP`, async () => {
      const r = await request(app).get(path);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(r.text, title);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
      assert.doesNotMatch(r.text, /<script>|<style|style=|\son[a-z]+=/i, 'nothing inline for the CSP to block');
      const again = await request(app).get(path).set('If-None-Match', String(r.headers.etag));
      assert.equal(again.status, 304);
    });
  }

  test('assets are served with their type and a short cache life; anything else is a 404 OperationOutcome', async () => {
    const js = await request(app).get('/web/view.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=300, must-revalidate');
    assert.doesNotMatch(js.text, /^import /m, 'one bundle: the browser loads no further modules');
    assert.match(js.text, new RegExp(`\\b${LABEL_MAX}\\b`), "the SHL label limit comes from src/shl's constants");
    assert.equal((await request(app).get('/web/view.js').set('If-None-Match', String(js.headers.etag))).status, 304);
    const kiosk = await request(app).get('/web/kiosk.js');
    assert.equal(kiosk.status, 200);
    assert.match(kiosk.text, /kiosk-extensions/);
    const base = await request(app).get('/web/base.css');
    assert.match(String(base.headers['content-type']), /^text\/css/);
    const css = await request(app).get('/web/kiosk.css');
    assert.match(String(css.headers['content-type']), /^text\/css/);
    for (const path of ['/web/kiosk.html', '/web/routes.ts', '/web/main.ts', '/web/page-scripts.js', '/web/..%2Froutes.ts', '/web/%2e%2e%2fstatic%2fview.js']) {
      const r = await request(app).get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.equal(r.headers['cache-control'], 'no-store');
    }
  });

  test('every message the pages name exists, as text, in every catalogue', async () => {
    for (const page of ['/view', '/kiosk']) {
      const html = (await request(app).get(page)).text;
      const keys = [...html.matchAll(/data-i18n="([^"]+)"/g), ...html.matchAll(/data-i18n-attr="[^=]+=([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(keys.length > 5, page);
      for (const [lang, messages] of Object.entries(CATALOGUES)) {
        for (const key of keys) {
          const value = key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)?.[k], messages);
          assert.equal(typeof value, 'string', `${lang}: ${key} (${page})`);
        }
      }
    }
  });
});
