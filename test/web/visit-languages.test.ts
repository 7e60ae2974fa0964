import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { testDatabases } from '../helpers/db.js';
import { startFakeAnthropic, type FakeAnthropic } from '../summaries/fake-anthropic.js';
import { MODEL, writeSummary } from '../visits/summary-model.js';
import { docsScreenshot, launchChromium, noBrowser, openPage, seriousAxeViolations } from './browser.js';

const EHR = { clientId: 'ehr-lang', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/visit.write'] };
const KIOSK = { clientId: 'kiosk-lang', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };

/** A one-page PDF, a 1×1 PNG and the first bytes of a TIFF: small, real formats. */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const TIFF = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** The fixture's visit with three documents: a PDF inline, a PNG through `url` to a Binary of the link, a TIFF. */
function visitWithDocuments(patientId: string): Bundle {
  const bundle = visitSummaryBundle(patientId);
  const u = (n: string) => `urn:uuid:0c3f6a9e-2222-4000-8000-0000000000${n}`;
  const extra: BundleEntry[] = [
    {
      fullUrl: u('01'),
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: bundle.entry![1]!.fullUrl! },
        description: 'Discharge letter',
        content: [{ attachment: { contentType: 'application/pdf', title: 'Discharge letter', data: PDF.toString('base64') } }],
      },
    },
    {
      fullUrl: u('02'),
      resource: {
        resourceType: 'Media',
        status: 'completed',
        subject: { reference: bundle.entry![1]!.fullUrl! },
        content: { contentType: 'image/png', title: 'Blood pressure chart', url: u('03') },
      },
    },
    { fullUrl: u('03'), resource: { resourceType: 'Binary', contentType: 'image/png', data: PNG } },
    {
      fullUrl: u('04'),
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: bundle.entry![1]!.fullUrl! },
        content: [{ attachment: { contentType: 'image/tiff', title: 'Scanned referral', data: TIFF.toString('base64') } }],
      },
    },
  ];
  return { ...bundle, entry: [...bundle.entry!, ...extra] };
}

async function assertAccessible(page: Page, what: string) {
  const violations = await seriousAxeViolations(page);
  assert.deepEqual(violations, [], `${what}: axe-core finds no serious or critical violation`);
}

describe('the visit summary and the kiosk in English and Spanish, in Chromium', { skip: noBrowser }, () => {
  let idp: Idp;
  let fake: FakeAnthropic;
  let gw: TestGateway;
  let browser: Browser;
  let viewerUrl: string;
  // What the pages show does not depend on the database; the visit tests run on both.
  const db = testDatabases()[0]!;

  before(async () => {
    idp = await startIdp();
    fake = await startFakeAnthropic();
    fake.script(writeSummary);
    gw = await startTestGateway({
      db: await db.open(),
      listen: true,
      trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] },
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-web', ANTHROPIC_BASE_URL: fake.baseUrl, ANTHROPIC_MODEL: MODEL, ANTHROPIC_TIMEOUT_MS: '5000' },
    });
    const ehr = await gw.clientToken(EHR);
    const identityToken = await idp.token({ sub: 'patient-es', ...patientClaims() });
    const checkin = await request(gw.app).post('/checkin').auth(ehr, { type: 'bearer' }).send({ identityToken, bundle: clipboardBundle() });
    assert.equal(checkin.status, 201, JSON.stringify(checkin.body));
    const patientId = (checkin.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id!;
    const made = await request(gw.app)
      .post(`/checkin/${checkin.body.id}/visit-summary`)
      .auth(ehr, { type: 'bearer' })
      .send({
        resourceType: 'Parameters',
        parameter: [
          { name: 'bundle', resource: visitWithDocuments(patientId) },
          { name: 'plainLanguageSummary', valueBoolean: true },
          { name: 'language', valueCode: 'es' },
        ],
      });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.plainLanguageSummary.aiGenerated, true);
    viewerUrl = made.body.viewerUrl;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await fake?.close();
    await idp?.close();
    await db.cleanup();
  });

  test('a Spanish browser: Spanish headings, the plain-language summary first with its label and disclaimer, citations, and a PDF that opens', async () => {
    const { page, errors } = await openPage(browser, { locale: 'es-ES' });
    await page.goto(viewerUrl);
    const summary = page.locator('#summary');
    await summary.getByRole('heading', { level: 2, name: 'En palabras sencillas' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    assert.equal(await page.title(), 'Resumen de su visita');
    await page.getByRole('heading', { level: 1, name: 'Resumen de su visita' }).waitFor();

    const h2 = await summary.locator('h2').allTextContents();
    assert.deepEqual(h2, ['En palabras sencillas', 'Del registro de su visita', 'Documentos'], 'plain words first, then the record, then the documents');
    const h3 = await summary.locator('h3').allTextContents();
    for (const heading of ['Cuándo buscar atención', 'Qué pasó', 'Diagnósticos', 'Sus diagnósticos', 'Sus medicamentos', 'Qué hacer ahora', 'Próxima cita']) {
      assert.ok(h3.includes(heading), `heading "${heading}"`);
    }
    assert.ok(h3.indexOf('Cuándo buscar atención') < h3.indexOf('Sus diagnósticos'), 'when to get care comes before the record');
    await summary.getByText('Escrito por IA', { exact: true }).waitFor();
    await summary.getByText(/Este resumen lo escribió inteligencia artificial \(IA\)/).waitFor();
    await summary.getByText('Usted tiene la presión arterial alta.', { exact: true }).waitFor();

    // The sentence cites the Condition: its link leads to that entry of the record.
    const cite = summary.locator('.plain li, .plain .statement').filter({ hasText: 'Usted tiene la presión arterial alta.' }).getByRole('link');
    const target = String(await cite.first().getAttribute('href'));
    assert.match(target, /^#record-\d+$/);
    assert.equal(await summary.locator(target).textContent(), 'High blood pressure');
    const address = page.url();
    await cite.first().click();
    assert.equal(await page.evaluate(() => `#${document.activeElement?.id}`), target, 'following a citation moves focus to the entry');
    assert.equal(page.url(), address, 'and leaves the link in the address as it was');

    // Documents: listed by title and type; the PDF opens from a blob: URL holding the PDF's bytes.
    const open = summary.getByRole('link', { name: 'Abrir Discharge letter' });
    const href = String(await open.getAttribute('href'));
    assert.match(href, /^blob:/);
    const [popup] = await Promise.all([page.waitForEvent('popup'), open.click()]);
    assert.match(popup.url(), /^blob:/);
    await popup.waitForLoadState();
    assert.equal(await popup.evaluate(() => document.contentType), 'application/pdf', 'the browser opened it as a PDF');
    await popup.close();
    const [download] = await Promise.all([page.waitForEvent('download'), summary.getByRole('link', { name: 'Descargar Discharge letter' }).click()]);
    assert.equal(download.suggestedFilename(), 'Discharge letter.pdf');
    assert.deepEqual(await readFile(await download.path()), PDF, 'the decrypted bytes, unchanged');
    await summary.getByText('Documento PDF', { exact: false }).first().waitFor();
    await summary.getByRole('link', { name: 'Abrir Blood pressure chart' }).waitFor();
    assert.equal(await summary.getByRole('link', { name: 'Abrir Scanned referral' }).count(), 0, 'a TIFF is not opened here');
    assert.equal(await summary.getByRole('link', { name: 'Descargar Scanned referral' }).getAttribute('download'), 'Scanned referral.tiff');
    await summary.getByText(/Cada documento puede tener hasta 10 MB/).waitFor();

    await page.evaluate(() => window.scrollTo(0, 0));
    await assertAccessible(page, '/view (es)');
    await docsScreenshot(page, 'view-es');

    // Large text (WCAG 1.4.4, 1.4.10): twice the text size still fits the phone's width, nothing scrolls sideways.
    const fits = await page.evaluate(() => {
      document.documentElement.style.fontSize = '225%';
      const ok = document.documentElement.scrollWidth <= window.innerWidth;
      document.documentElement.style.fontSize = '';
      return ok;
    });
    assert.equal(fits, true, 'text at 200% reflows');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).scrollBehavior), 'auto', 'no smooth scrolling when motion is reduced');
    await page.emulateMedia({ reducedMotion: 'no-preference' });

    // The visible switcher: English at once, without fetching the link again.
    await page.getByRole('button', { name: 'English' }).click();
    await summary.getByRole('heading', { level: 2, name: 'In plain words' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await summary.getByText('Written by AI', { exact: true }).waitFor();
    assert.equal(await summary.getByText('Usted tiene la presión arterial alta.', { exact: true }).getAttribute('lang'), 'es', 'the Spanish sentences stay marked as Spanish');
    assert.equal(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');
    await assertAccessible(page, '/view (en)');
    await docsScreenshot(page, 'view-en');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('the kiosk before its token is set, in Spanish: a labelled field, accessible', async () => {
    const { page, errors } = await openPage(browser, { locale: 'es-US' });
    await page.goto(`${gw.baseUrl}/kiosk`);
    const field = page.getByLabel('Token de acceso del quiosco');
    await field.waitFor();
    await page.getByRole('button', { name: 'Empezar el registro' }).click();
    await page.getByText('Primero pegue el token de acceso del quiosco.').waitFor();
    await assertAccessible(page, '/kiosk setup (es)');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  for (const [locale, lang, heading] of [
    ['en-US', 'en', 'Scan this code with your phone'],
    ['es-MX', 'es', 'Escanee este código con su teléfono'],
  ] as const) {
    test(`the kiosk in ${lang}: its language from the browser, accessible`, async () => {
      const { page, errors } = await openPage(browser, { locale });
      await page.goto(`${gw.baseUrl}/kiosk#token=${await gw.clientToken(KIOSK)}`);
      await page.getByRole('heading', { level: 2, name: heading }).waitFor();
      await page.locator('#qr').waitFor({ state: 'visible' });
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      assert.match(String(await page.locator('#expires-line time').getAttribute('datetime')), /^\d{4}-/);
      await assertAccessible(page, `/kiosk (${lang})`);
      await docsScreenshot(page, `kiosk-${lang}`);
      assert.deepEqual(errors, []);
      await page.context().close();
    });
  }
});
