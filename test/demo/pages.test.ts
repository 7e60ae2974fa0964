import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startDemo, type Demo } from '../../src/demo/demo.js';
import { DEMO_PATIENTS } from '../../src/demo/patients.js';
import { launchChromium, noBrowser, openPage, screenshot } from '../web/browser.js';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
const [MARIA, JAMES, AIKO] = DEMO_PATIENTS;

/** The README's pictures: taken here, so they show the pages as they are. */
async function docScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  await page.screenshot({ path: path.join(DOCS, name), fullPage: true });
}

describe('the demo in Chromium: both QR directions, the EHR and the viewer, in English and Spanish', { skip: noBrowser }, () => {
  let dir: string;
  let demo: Demo;
  let browser: Browser;
  const errors: string[][] = [];

  const open = async (url: string, locale?: string) => {
    const { page, errors: pageErrors } = await openPage(browser, locale ? { locale } : {});
    errors.push(pageErrors);
    await page.goto(url);
    return page;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ktc-demo-test-'));
    demo = await startDemo({ config: loadConfig({ PORT: '0', PUBLIC_BASE_URL: 'http://127.0.0.1:0', LOG_LEVEL: 'info' }), dir });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('wallet scans the kiosk, kiosk scans the wallet, EHR sends the summary, the patient opens it', async () => {
    const start = await open(`${demo.baseUrl}/demo`);
    for (const name of ['1. Kiosk', '2. Patient wallet', '3. Kiosk scanner', '4. EHR']) await start.getByRole('link', { name }).waitFor();
    assert.equal(await start.locator('html').getAttribute('lang'), 'en');
    assert.equal(await start.title(), 'ktc-gateway demo');
    await screenshot(start, 'demo-start');

    // Wallet → kiosk: the kiosk shows its session code, the wallet reads it, the patient consents.
    const kiosk = await open(`${demo.baseUrl}/demo/kiosk`);
    await kiosk.locator('#qr').waitFor({ state: 'visible' });
    assert.equal(new URL(kiosk.url()).pathname, '/kiosk');
    await docScreenshot(kiosk, 'kiosk.png');

    const wallet = await open(`${demo.baseUrl}/demo/wallet`);
    await wallet.getByLabel('Who are you? (made-up patients)').selectOption(MARIA!.id);
    await wallet.getByRole('button', { name: 'Scan the kiosk’s code' }).click();
    await wallet.getByText('Demo Clinic asks for your health history and your insurance card. You signed in as Maria Elena Garcia.', { exact: false }).waitFor();
    await screenshot(wallet, 'demo-wallet-consent');
    await wallet.getByRole('button', { name: 'Share and check in' }).click();
    await wallet.getByRole('heading', { name: 'Checked in at Demo Clinic' }).waitFor();
    await kiosk.getByRole('heading', { name: 'Checked in: Maria' }).waitFor();

    // A pasted address that is not this clinic's check-in code is refused before anything is sent.
    await wallet.getByRole('button', { name: 'Start again' }).click();
    await wallet.getByLabel('Or paste the kiosk code’s address').fill('https://elsewhere.example/checkin/sessions/x/submit');
    await wallet.getByRole('button', { name: 'Use this code' }).click();
    await wallet.getByText('That is not a check-in code of this clinic.').waitFor();

    // Kiosk → wallet: the wallet shows its SMART Health Card code, the kiosk's scanner reads it.
    await wallet.getByLabel('Who are you? (made-up patients)').selectOption(JAMES!.id);
    await wallet.getByRole('button', { name: 'Show my code to the kiosk' }).click();
    const cardQr = wallet.locator('#card-qr');
    await cardQr.waitFor({ state: 'visible' });
    assert.match(String(await cardQr.getAttribute('src')), /^data:image\/png;base64,/);
    await screenshot(wallet, 'demo-wallet-card');
    const scanner = await open(`${demo.baseUrl}/demo/scan`);
    await scanner.getByRole('button', { name: 'Scan the wallet’s code' }).click();
    await scanner.getByRole('heading', { name: 'Checked in: James' }).waitFor();
    await screenshot(scanner, 'demo-scan-done');

    // The EHR lists both arrivals and sends Maria her visit summary.
    const ehr = await open(`${demo.baseUrl}/demo/ehr`);
    const maria = ehr.locator('li', { hasText: 'Maria Elena Garcia' });
    await maria.waitFor();
    await ehr.locator('li', { hasText: 'James Robert Okafor' }).waitFor();
    await maria.getByRole('button', { name: 'Send visit summary' }).click();
    await ehr.getByRole('heading', { name: 'Visit summary sent to Maria Elena Garcia' }).waitFor();
    await screenshot(ehr, 'demo-ehr-sent');
    assert.match(String(await ehr.locator('#sent-qr').getAttribute('src')), /^data:image\/png;base64,/);
    const viewerUrl = String(await ehr.getByRole('link', { name: 'Open the patient’s viewer' }).getAttribute('href'));
    assert.ok(viewerUrl.startsWith(`${demo.baseUrl}/view#shlink:/`), viewerUrl);

    // The patient's viewer decrypts the link in the browser and shows the visit.
    const viewer = await open(viewerUrl);
    await viewer.getByText('Asthma', { exact: true }).first().waitFor();
    await docScreenshot(viewer, 'viewer.png');

    assert.deepEqual(errors.flat(), [], 'no page logged an error (CSP violations included)');
  });

  test('in Spanish, from the browser’s language: the wallet shows its code, the scanner checks in, the EHR sends the summary; the switcher goes back to English', async () => {
    const start = await open(`${demo.baseUrl}/demo`, 'es-US');
    await start.getByRole('link', { name: '2. Billetera del paciente' }).waitFor();
    assert.equal(await start.locator('html').getAttribute('lang'), 'es');
    assert.equal(await start.title(), 'Demostración de ktc-gateway');
    await start.getByRole('button', { name: 'Español' }).and(start.locator('[aria-pressed="true"]')).waitFor();

    const wallet = await open(`${demo.baseUrl}/demo/wallet`, 'es-US');
    await wallet.getByLabel('¿Quién es usted? (pacientes inventados)').selectOption(AIKO!.id);
    await wallet.getByRole('button', { name: 'Mostrar mi código al quiosco' }).click();
    await wallet.getByRole('heading', { name: 'Muestre este código al quiosco' }).waitFor();
    assert.equal(await wallet.locator('#card-qr').getAttribute('alt'), 'Su código SMART Health Card');
    await screenshot(wallet, 'demo-wallet-card-es');

    const scanner = await open(`${demo.baseUrl}/demo/scan`, 'es-US');
    await scanner.getByRole('button', { name: 'Escanear el código de la billetera' }).click();
    await scanner.getByRole('heading', { name: 'Registrado: Aiko' }).waitFor();
    await scanner.getByText('Se leyó un código SMART Health Card', { exact: false }).waitFor();
    // The visible switcher: the page's words, its dynamic sentences and <html lang> change at once.
    await scanner.getByRole('button', { name: 'English' }).click();
    await scanner.getByRole('heading', { name: 'Checked in: Aiko' }).waitFor();
    await scanner.getByRole('button', { name: 'Scan the wallet’s code' }).waitFor();
    assert.equal(await scanner.locator('html').getAttribute('lang'), 'en');
    await scanner.getByRole('button', { name: 'Español' }).click();
    await scanner.getByRole('heading', { name: 'Registrado: Aiko' }).waitFor();

    const ehr = await open(`${demo.baseUrl}/demo/ehr`, 'es-US');
    const aiko = ehr.locator('li', { hasText: `${AIKO!.given.join(' ')} ${AIKO!.family}` });
    await aiko.getByRole('button', { name: 'Enviar resumen de la consulta' }).click();
    await ehr.getByRole('heading', { name: `Resumen de la consulta enviado a ${AIKO!.given.join(' ')} ${AIKO!.family}` }).waitFor();
    await ehr.getByText('El enlace funciona hasta el', { exact: false }).waitFor();
    await screenshot(ehr, 'demo-ehr-sent-es');
    const viewerUrl = String(await ehr.getByRole('link', { name: 'Abrir el visor del paciente' }).getAttribute('href'));
    assert.ok(viewerUrl.startsWith(`${demo.baseUrl}/view#shlink:/`), viewerUrl);

    assert.deepEqual(errors.flat(), [], 'no page logged an error (CSP violations included)');
  });
});
