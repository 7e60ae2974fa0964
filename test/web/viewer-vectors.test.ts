import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page, Request as BrowserRequest } from 'playwright-core';
import { SHL_VECTORS, readVector } from '../helpers/fixtures.js';
import { noBrowser, openPage, pagesInChromium, screenshot } from './browser.js';

/**
 * The viewer against the spec's own example links and JWEs. Their hosts do not exist, so each
 * link's `url` is moved to the page's origin (the page may only fetch from there) and the browser
 * answers those requests itself with the vector files; key, flags, label and files are unchanged.
 */

type Payload = { url: string; key: string; flag?: string; label?: string; exp?: number };
const vectorPayload = (name: string) => JSON.parse(readVector(SHL_VECTORS, name)) as Payload;
const shlink = (p: Payload) => `shlink:/${Buffer.from(JSON.stringify(p)).toString('base64url')}`;
const RECIPIENT = 'Patient viewer (ktc-gateway)';

describe('patient viewer with the SMART Health Links example vectors', { skip: noBrowser }, () => {
  const web = pagesInChromium();

  /** Every request the page made, so a test can show the key never left the browser. */
  function recordRequests(page: Page): BrowserRequest[] {
    const seen: BrowserRequest[] = [];
    page.on('request', (r) => seen.push(r));
    return seen;
  }

  async function assertKeyNeverSent(requests: BrowserRequest[], key: string) {
    assert.ok(requests.length > 0);
    for (const r of requests) {
      const headers = JSON.stringify(await r.allHeaders());
      assert.ok(!r.url().includes(key) && !headers.includes(key) && !(r.postData() ?? '').includes(key), `${r.method()} ${r.url()} carries the key`);
    }
  }

  test("the IG's P-flag link: passcode, manifest with a location, its example card", async () => {
    const ig = vectorPayload('ig-link-payload.json');
    const manifestUrl = `${web.origin}/shl/${new URL(ig.url).pathname.split('/')[2]}`;
    const fileUrl = `${web.origin}/shl/file/ig-file-0`;
    const { page, errors } = await openPage(web.browser);
    const requests = recordRequests(page);
    const manifestBodies: Record<string, unknown>[] = [];
    await page.route(manifestUrl, async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      manifestBodies.push(body);
      if (body.passcode !== 'open sesame') return route.fulfill({ status: 401, json: { remainingAttempts: 4 } });
      await route.fulfill({ json: { files: [{ contentType: 'application/smart-health-card', location: fileUrl }] } });
    });
    await page.route(fileUrl, (route) => route.fulfill({ contentType: 'application/jose', body: readVector(SHL_VECTORS, 'ig-file-0.jwe') }));

    await page.goto(`${web.origin}/view#${shlink({ ...ig, url: manifestUrl })}`);
    await page.getByText('Back-to-school immunizations for Oliver Brown').waitFor();
    await page.getByLabel('Passcode').fill('guess');
    await page.getByRole('button', { name: 'Open my summary' }).click();
    await page.getByText('That passcode is not right. You can try 4 more times.').waitFor();
    await page.getByLabel('Passcode').fill('open sesame');
    await page.getByRole('button', { name: 'Open my summary' }).click();
    await page.getByText('Verifiable copy included.').waitFor();
    assert.match(String(await page.locator('#summary').textContent()), /a signed copy of this record/);
    assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), true);
    await screenshot(page, 'viewer-ig-vector');

    assert.deepEqual(manifestBodies, [
      { recipient: RECIPIENT, passcode: 'guess', embeddedLengthMax: 100000 },
      { recipient: RECIPIENT, passcode: 'open sesame', embeddedLengthMax: 100000 },
    ]);
    await assertKeyNeverSent(requests, ig.key);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("the SDK's U-flag link (no cty): one GET with the recipient, the card is shown", async () => {
    const u = vectorPayload('sdk-u-payload.json');
    // The vector's exp (2024-01-01) has passed; without it the link is current.
    const { exp: _past, ...current } = u;
    const fileUrl = `${web.origin}${new URL(u.url).pathname}`;
    const { page, errors } = await openPage(web.browser);
    const requests = recordRequests(page);
    await page.route(`${fileUrl}?*`, (route) => {
      if (route.request().method() !== 'GET') return route.fulfill({ status: 405 });
      return route.fulfill({ contentType: 'application/jose', body: readVector(SHL_VECTORS, 'sdk-u-file-0.jwe') });
    });

    await page.goto(`${web.origin}/view#${shlink({ ...current, url: fileUrl })}`);
    await page.getByText('Verifiable copy included.').waitFor();
    const fetched = requests.filter((r) => r.url().startsWith(fileUrl));
    assert.equal(fetched.length, 1);
    assert.equal(new URL(fetched[0]!.url()).searchParams.get('recipient'), RECIPIENT);
    await assertKeyNeverSent(requests, u.key);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('an expired link, a link of another service and a revoked link say so in plain words', async () => {
    const { page, errors } = await openPage(web.browser);
    const requests = recordRequests(page);
    const p = vectorPayload('sdk-p-payload.json');
    const manifestUrl = `${web.origin}${new URL(p.url).pathname}`;
    await page.route(manifestUrl, (route) => route.fulfill({ status: 404, json: { resourceType: 'OperationOutcome', issue: [] } }));
    const status = page.locator('#status');

    await page.goto(`${web.origin}/view#${shlink({ ...p, url: manifestUrl })}`);
    await page.getByText('This link expired on').waitFor();
    assert.match(String(await status.textContent()), /Ask the clinic for a new link/);

    await page.goto(`${web.origin}/view#${readVector(SHL_VECTORS, 'ig-link.txt').trim()}`);
    await page.getByText('This link was made by a different service').waitFor();

    const { exp: _past, ...current } = p;
    await page.goto(`${web.origin}/view#${shlink({ ...current, url: manifestUrl })}`);
    await page.getByLabel('Passcode').fill('1234');
    await page.getByRole('button', { name: 'Open my summary' }).click();
    await page.getByText('This link no longer works.').waitFor();
    assert.equal(await page.getByLabel('Passcode').isVisible(), false);

    await page.goto(`${web.origin}/view#shlink:/not-base64!`);
    await page.getByText('This link is not complete or not correct.').waitFor();

    const posts = requests.filter((r) => r.method() === 'POST');
    assert.equal(posts.length, 1, 'only the current link asked for its manifest');
    assert.ok(!requests.some((r) => r.url().includes('ehr.example.org')));
    await assertKeyNeverSent(requests, p.key);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
