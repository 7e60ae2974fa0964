import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../../src/clock.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { launchChromium, noBrowser, openPage, screenshot } from './browser.js';

const KIOSK = { clientId: 'kiosk-web', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const SESSION_TTL_SECONDS = 60;

for (const tdb of testDatabases()) {
  describe(`kiosk page in Chromium (${tdb.name})`, { skip: noBrowser }, () => {
    let idp: Idp;
    let gw: TestGateway;
    let clock: ManualClock;
    let browser: Browser;

    before(async () => {
      idp = await startIdp();
      clock = new ManualClock(Date.now());
      gw = await startTestGateway({
        db: await tdb.open(),
        clock,
        listen: true,
        env: { CHECKIN_SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS) },
        trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] },
      });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await gw?.close();
      await idp?.close();
      await tdb.cleanup();
    });

    const kioskToken = () => gw.clientToken(KIOSK);
    const sessionReads = () => gw.logs.filter((l) => l.msg === 'request' && l.method === 'GET' && l.route === '/checkin/sessions/:id').length;

    test('shows the QR, then "Checked in: John" when the wallet submits', async () => {
      const readsBefore = sessionReads();
      const token = await kioskToken();
      const { page, errors } = await openPage(browser);
      await page.goto(`${gw.baseUrl}/kiosk#token=${token}`);
      const qr = page.locator('#qr');
      await qr.waitFor({ state: 'visible' });
      assert.match(String(await qr.getAttribute('src')), /^data:image\/png;base64,/);
      assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
      const sessionId = await page.locator('#waiting').getAttribute('data-session-id');
      assert.match(String(sessionId), /^[A-Za-z0-9_-]{43}$/);
      await screenshot(page, `kiosk-waiting-${tdb.name}`);

      const submit = await fetch(`${gw.baseUrl}/checkin/sessions/${sessionId}/submit`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${await idp.token({ sub: 'patient-kiosk', ...patientClaims() }, { now: clock.now() })}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ bundle: clipboardBundle() }),
      });
      assert.equal(submit.status, 201, await submit.text());

      const done = page.locator('#done-message');
      await done.waitFor({ state: 'visible' });
      assert.equal(await done.textContent(), 'Checked in: John');
      assert.equal(await page.locator('#qr').isVisible(), false);
      assert.equal(sessionReads() - readsBefore, 1, 'the page followed the session with one event stream, not by polling');
      await screenshot(page, `kiosk-checked-in-${tdb.name}`);

      await page.getByRole('button', { name: 'Next person' }).click();
      await page.waitForFunction((old) => {
        const id = document.getElementById('waiting')?.dataset.sessionId;
        return Boolean(id && id !== old);
      }, sessionId);
      assert.deepEqual(errors, []);
      await page.context().close();

      const logged = JSON.stringify(gw.logs);
      assert.ok(!logged.includes(token) && !logged.includes(String(sessionId)), 'neither the token nor the session id is logged');
    });

    test('a pasted token starts the kiosk; a refused token asks again', async () => {
      const { page, errors } = await openPage(browser);
      await page.goto(`${gw.baseUrl}/kiosk`);
      const field = page.getByLabel('Kiosk access token');
      await field.fill('not-a-token');
      await page.getByRole('button', { name: 'Start check-in' }).click();
      await page.getByText('This kiosk token was not accepted').waitFor();
      assert.equal(await field.isVisible(), true);

      await field.fill(await kioskToken());
      await page.getByRole('button', { name: 'Start check-in' }).click();
      await page.locator('#qr').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#status').textContent(), '');
      assert.deepEqual(errors, []);
      await page.context().close();
    });

    test('without an event stream the page polls, and replaces an expired code', async () => {
      const { page, errors } = await openPage(browser);
      await page.route('**/checkin/sessions/*', async (route) => {
        if (route.request().headers().accept?.includes('text/event-stream')) await route.abort('connectionreset');
        else await route.continue();
      });
      const readsBefore = sessionReads();
      await page.goto(`${gw.baseUrl}/kiosk#token=${await kioskToken()}`);
      await page.locator('#qr').waitFor({ state: 'visible' });
      const first = await page.locator('#waiting').getAttribute('data-session-id');

      clock.advance((SESSION_TTL_SECONDS + 1) * 1000);
      await page.getByText('That code has expired. Here is a new one.').waitFor();
      const second = await page.locator('#waiting').getAttribute('data-session-id');
      assert.ok(second && second !== first);
      assert.equal(await page.locator('#qr').isVisible(), true);
      assert.ok(sessionReads() > readsBefore, 'the expiry was seen by polling (the event stream never reached the gateway)');
      await screenshot(page, `kiosk-expired-${tdb.name}`);
      assert.deepEqual(errors, []);
      await page.context().close();
    });
  });
}
