import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ManualClock } from '../../src/clock.js';
import type { DcApiRequest } from '../../src/identity/mdl/request.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { launchChromium, noBrowser, openPage, screenshot } from '../web/browser.js';
import { ALICE, issueMdl, makeIaca, present, type TestMdl } from './mdl-wallet.js';

const KIOSK = { clientId: 'kiosk-web', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const BUTTON = "Use your mobile driver's licence";
const DAY = 24 * 3600_000;

for (const tdb of testDatabases()) {
  describe(`kiosk page: mobile driver's licence over the Digital Credentials API (${tdb.name})`, { skip: noBrowser }, () => {
    let idp: Idp;
    let gw: TestGateway;
    let clock: ManualClock;
    let browser: Browser;
    let alice: TestMdl;

    before(async () => {
      idp = await startIdp();
      clock = new ManualClock(Date.now());
      const iaca = await makeIaca();
      alice = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + DAY) });
      gw = await startTestGateway({
        db: await tdb.open(),
        clock,
        listen: true,
        trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'], mdl: { trustAnchors: [iaca.pem], ial: 2, aal: 2 } },
      });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await gw?.close();
      await idp?.close();
      await tdb.cleanup();
    });

    const openKiosk = async (page: Page) => {
      await page.goto(`${gw.baseUrl}/kiosk#token=${await gw.clientToken(KIOSK)}`);
      await page.locator('#qr').waitFor({ state: 'visible' });
      return String(await page.locator('#waiting').getAttribute('data-session-id'));
    };
    const submit = (sessionId: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gw.baseUrl}/checkin/sessions/${sessionId}/submit`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

    test('without the Digital Credentials API no licence button is offered and the QR flow works as before', async () => {
      const { page, errors } = await openPage(browser);
      // Whatever this Chromium ships, the fallback path is what a browser without the API sees.
      await page.addInitScript(() => {
        delete (window as { DigitalCredential?: unknown }).DigitalCredential;
      });
      const sessionId = await openKiosk(page);
      assert.equal(await page.getByRole('button', { name: BUTTON }).count(), 0);
      const r = await submit(sessionId, { bundle: clipboardBundle() }, { Authorization: `Bearer ${await idp.token({ sub: 'p-1', ...patientClaims() }, { now: clock.now() })}` });
      assert.equal(r.status, 201, await r.text());
      await page.locator('#done-message').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#done-message').textContent(), 'Checked in: John');
      assert.deepEqual(errors, []);
      await page.context().close();
    });

    test('the page feature-detects: the button shows exactly where DigitalCredential and navigator.credentials.get exist', async () => {
      const { page, errors } = await openPage(browser);
      await openKiosk(page);
      const supported = await page.evaluate(
        () => typeof (globalThis as { DigitalCredential?: unknown }).DigitalCredential !== 'undefined' && typeof navigator.credentials?.get === 'function',
      );
      assert.equal(await page.getByRole('button', { name: BUTTON }).count(), supported ? 1 : 0);
      assert.deepEqual(errors, []);
      await page.context().close();
    });

    test('where the API exists (stubbed wallet), the licence is verified for the session and the wallet then checks in', async () => {
      const { page, errors } = await openPage(browser);
      const asked: DcApiRequest[] = [];
      // The test's wallet answers navigator.credentials.get as a phone would, bound to the page's origin.
      await page.exposeFunction('testWallet', async (request: DcApiRequest) => {
        asked.push(request);
        const bytes = await present(alice, request, new URL(gw.baseUrl).origin);
        return { protocol: request.protocol, data: { vp_token: { mdl: [Buffer.from(bytes).toString('base64url')] } } };
      });
      // A string, not a function: the test runner's transpiler would add helpers the page does not have.
      await page.addInitScript({
        content: `window.DigitalCredential = function DigitalCredential() {};
          Object.defineProperty(navigator.credentials, 'get', { configurable: true, value: (options) => window.testWallet(options.digital.requests[0]) });`,
      });
      const sessionId = await openKiosk(page);
      await page.getByRole('button', { name: BUTTON }).click();
      await page.getByText('Licence verified.').waitFor();
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.protocol, 'openid4vp-v1-unsigned');
      assert.equal(asked[0]!.data.dcql_query.credentials[0]!.meta.doctype_value, 'org.iso.18013.5.1.mDL');
      await screenshot(page, `kiosk-mdl-verified-${tdb.name}`);

      const r = await submit(sessionId, { bundle: clipboardBundle({ given: 'Alice Marie', family: 'Rivera', birthDate: '1984-03-02' }) });
      assert.equal(r.status, 201, await r.text());
      await page.locator('#done-message').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#done-message').textContent(), 'Checked in: Alice');
      await page.getByRole('button', { name: 'Next person' }).click();
      await page.waitForFunction((old) => {
        const id = document.getElementById('waiting')?.dataset.sessionId;
        return Boolean(id && id !== old);
      }, sessionId);
      assert.equal(await page.getByText('Licence verified.').count(), 0, "the next person's screen does not carry the last verification");
      assert.deepEqual(errors, []);
      await page.context().close();
    });
  });
}
