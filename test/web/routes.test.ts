import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { errorHandler, notFoundRoute } from '../../src/http/errors.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { createLogger } from '../../src/log.js';
import { webRoutes } from '../../src/web/routes.js';

const app = express().use(securityHeaders).use(webRoutes()).use(notFoundRoute).use(errorHandler(createLogger('silent')));

describe('static pages', () => {
  for (const [path, title] of [
    ['/kiosk', '<title>Check in</title>'],
    ['/view', '<title>Your visit summary</title>'],
  ] as const) {
    test(`GET ${path} is the page, revalidated on every load, under the strict CSP`, async () => {
      const r = await request(app).get(path);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.ok(r.text.includes(title));
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
    const base = await request(app).get('/web/base.css');
    assert.match(String(base.headers['content-type']), /^text\/css/);
    const css = await request(app).get('/web/kiosk.css');
    assert.match(String(css.headers['content-type']), /^text\/css/);
    for (const path of ['/web/kiosk.html', '/web/routes.ts', '/web/..%2Froutes.ts', '/web/%2e%2e%2fstatic%2fview.js']) {
      const r = await request(app).get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.equal(r.headers['cache-control'], 'no-store');
    }
  });
});
