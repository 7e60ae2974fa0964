import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { launchChromium, noBrowser, openPage, screenshot, seriousAxeViolations } from './browser.js';

const EHR = { clientId: 'ehr-web', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/visit.write'] };
const PASSCODE = 'blue-heron-42';
/** Looks like markup on purpose: the page must show it as text. */
const DIAGNOSIS = 'Strep throat <b>bacterial</b>';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A loopback reverse proxy in front of the gateway that records every request the browser makes
 * (method, path and query, headers, body). The gateway's PUBLIC_BASE_URL is the proxy, so the
 * viewer page, the manifest and the files are all fetched through it.
 */
async function startRecordingProxy(): Promise<{ origin: string; seen: SeenRequest[]; forwardTo(base: string): void; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  let target = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    forwardTo: (base) => {
      target = base;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the gateway received from the browser: the manifest request, and never the key or the link. */
function assertKeyStayedInBrowser(received: SeenRequest[], key: string) {
  assert.ok(
    received.some((r) => r.method === 'POST' && r.url.startsWith('/shl/')),
    'the manifest was fetched through the proxy',
  );
  for (const r of received) {
    const where = `${r.method} ${r.url}`;
    assert.ok(!r.url.includes(key) && !r.body.includes(key) && !JSON.stringify(r.headers).includes(key), `${where} carries the link key`);
    assert.ok(!r.url.includes('shlink') && !r.body.includes('shlink'), `${where} carries the link`);
  }
}

for (const tdb of testDatabases()) {
  describe(`patient viewer in Chromium (${tdb.name})`, { skip: noBrowser }, () => {
    let idp: Idp;
    let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
    let gw: TestGateway;
    let browser: Browser;
    let ehr: string;
    let checkinId: string;
    let patientId: string;

    before(async () => {
      idp = await startIdp();
      proxy = await startRecordingProxy();
      gw = await startTestGateway({
        db: await tdb.open(),
        listen: true,
        env: { PUBLIC_BASE_URL: proxy.origin },
        trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] },
      });
      proxy.forwardTo(gw.baseUrl);
      ehr = await gw.clientToken(EHR);
      const identityToken = await idp.token({ sub: 'patient-viewer', ...patientClaims() });
      const r = await request(gw.app).post('/checkin').auth(ehr, { type: 'bearer' }).send({ identityToken, bundle: clipboardBundle() });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      checkinId = r.body.id;
      patientId = (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id!;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await gw?.close();
      await proxy?.close();
      await idp?.close();
      await tdb.cleanup();
    });

    test('opens a visit summary link with its passcode and shows the visit in plain words; the key never leaves the browser', async () => {
      const made = await request(gw.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send({
          resourceType: 'Parameters',
          parameter: [
            { name: 'bundle', resource: visitSummaryBundle(patientId, { diagnosis: DIAGNOSIS }) },
            { name: 'passcode', valueString: PASSCODE },
          ],
        });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const { viewerUrl, shlink } = made.body as { viewerUrl: string; shlink: string };
      assert.ok(viewerUrl.startsWith(`${proxy.origin}/view#shlink:/`));
      const payload = JSON.parse(Buffer.from(shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { key: string; flag: string; label?: string };
      assert.equal(payload.flag, 'P');
      const key = payload.key;
      const seenBefore = proxy.seen.length;

      const { page, errors } = await openPage(browser);
      await page.goto(viewerUrl);
      assert.equal(payload.label, 'Visit summary');
      await page.getByRole('heading', { level: 1, name: 'Your visit summary' }).waitFor();
      const passcode = page.getByLabel('Passcode');
      await passcode.fill('not-the-passcode');
      await page.getByRole('button', { name: 'Open my summary' }).click();
      await page.getByText(/That passcode is not right\. You can try \d+ more times\./).waitFor();
      assert.deepEqual(await seriousAxeViolations(page), [], 'the passcode form is accessible');
      await screenshot(page, `viewer-wrong-passcode-${tdb.name}`);

      await passcode.fill(PASSCODE);
      await page.getByRole('button', { name: 'Open my summary' }).click();
      const summary = page.locator('#summary');
      await summary.getByText(DIAGNOSIS, { exact: true }).waitFor();
      assert.equal(await summary.locator('b, img, script').count(), 0, 'text from the link is never parsed as HTML');
      const text = String(await summary.textContent());

      for (const expected of [
        'Your visit today',
        'Blood pressure check',
        'Seen for a blood pressure check.',
        'Lisinopril 10 mg tablet',
        'Take one tablet by mouth once a day',
        'Take lisinopril once a day. Check your blood pressure at home.',
        'Next appointment',
        'Blood pressure follow-up',
      ]) {
        assert.ok(text.includes(expected), `the page shows "${expected}"`);
      }
      assert.ok(!text.includes('Anyperson'), 'the patient is not listed as someone they will see');
      assert.ok(text.includes('Verifiable copy included.'), 'the card signed by the gateway is always in the link, and mentioned');
      assert.equal(await page.getByRole('heading', { name: /visit summary/i }).count(), 1, 'one "visit summary" heading, not repeated by the link label');
      assert.equal(await passcode.isVisible(), false);
      assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), true);
      await screenshot(page, `viewer-visit-${tdb.name}`);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), false, 'the print layout leaves out the controls');
      await screenshot(page, `viewer-visit-print-${tdb.name}`);
      assert.deepEqual(errors, []);
      await page.context().close();

      assertKeyStayedInBrowser(proxy.seen.slice(seenBefore), key);
      const logged = JSON.stringify(gw.logs);
      for (const secret of [key, PASSCODE, DIAGNOSIS]) assert.ok(!logged.includes(secret), 'the gateway log holds no key, passcode or PHI');
    });

    test('a link without a passcode opens at once, and a card signed by the gateway is mentioned', async () => {
      const made = await request(gw.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send(visitSummaryBundle(patientId, { compact: true }));
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const { viewerUrl, shlink, healthCard } = made.body as { viewerUrl: string; shlink: string; healthCard: { fitsSingleQr: boolean } };
      assert.equal(healthCard.fitsSingleQr, true);
      const seenBefore = proxy.seen.length;

      const { page, errors } = await openPage(browser);
      await page.goto(viewerUrl);
      const summary = page.locator('#summary');
      await summary.getByText('Verifiable copy included.').waitFor();
      await summary.getByText('High blood pressure', { exact: true }).waitFor();
      assert.equal(await page.getByLabel('Passcode').isVisible(), false);
      await screenshot(page, `viewer-no-passcode-${tdb.name}`);
      assert.deepEqual(errors, []);
      await page.context().close();

      const key = (JSON.parse(Buffer.from(shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { key: string }).key;
      assertKeyStayedInBrowser(proxy.seen.slice(seenBefore), key);
      assert.ok(!JSON.stringify(gw.logs).includes(key));
    });

    test('a single-file (U) link holds only the signed card: the page shows the record the card carries', async () => {
      const made = await request(gw.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send({
          resourceType: 'Parameters',
          parameter: [
            { name: 'bundle', resource: visitSummaryBundle(patientId) },
            { name: 'singleFile', valueBoolean: true },
          ],
        });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const { page, errors } = await openPage(browser);
      await page.goto((made.body as { viewerUrl: string }).viewerUrl);
      const summary = page.locator('#summary');
      await summary.getByText('Verifiable copy included.').waitFor();
      // The card is minified (SMART Health Cards drop display texts); what remains is shown.
      await summary.getByText('Take one tablet by mouth once a day').waitFor();
      await summary
        .getByText(/Blood pressure follow-up/)
        .first()
        .waitFor();
      await summary.getByText('Seen for a blood pressure check.').waitFor();
      assert.deepEqual(errors, []);
      await page.context().close();
    });
  });
}
