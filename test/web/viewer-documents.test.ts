import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { encryptFile } from '../../src/shl/jwe.js';
import { noBrowser, openPage, pagesInChromium } from './browser.js';

/**
 * Documents whose bytes are in another file of the same link: the visit document's
 * DocumentReference points with `url` at a Binary that the link carries as its own FHIR file.
 * The link is served by the test (page.route) from JWEs made with the gateway's own encryptFile.
 */

const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);

describe('viewer: documents from another file of the link, and size limits', { skip: noBrowser }, () => {
  const web = pagesInChromium();

  test('a JPEG named by url opens from a blob: URL; a document over the limit is listed, not opened', async () => {
    const key = randomBytes(32);
    const visitDocument = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [
        {
          fullUrl: 'urn:uuid:c1',
          resource: {
            resourceType: 'Composition',
            status: 'final',
            title: 'Knee X-ray',
            type: { text: 'Imaging report' },
            date: '2026-11-23',
            author: [{ display: 'Clinic A' }],
            section: [{ title: 'Notes', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">X-ray of the left knee.</div>' } }],
          },
        },
        {
          fullUrl: 'urn:uuid:d1',
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            content: [{ attachment: { contentType: 'image/jpeg', title: 'Knee X-ray image', url: 'https://ehr.example.org/fhir/Binary/xray-1' } }],
          },
        },
        {
          fullUrl: 'urn:uuid:d2',
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            content: [{ attachment: { contentType: 'application/pdf', title: 'Full imaging study', data: Buffer.alloc(10 * 1024 * 1024 + 16, 1).toString('base64') } }],
          },
        },
      ],
    };
    const binary = { resourceType: 'Binary', id: 'xray-1', contentType: 'image/jpeg', data: JPEG.toString('base64') };
    const files = [
      await encryptFile(JSON.stringify(visitDocument), key, 'application/fhir+json', { zip: true }),
      await encryptFile(JSON.stringify(binary), key, 'application/fhir+json', { zip: true }),
    ];
    const manifestUrl = `${web.origin}/shl/documents-test`;
    const { page, errors } = await openPage(web.browser);
    await page.route(manifestUrl, (route) => route.fulfill({ json: { files: files.map((embedded) => ({ contentType: 'application/fhir+json', embedded })) } }));
    const payload = { url: manifestUrl, key: key.toString('base64url'), label: 'Knee X-ray from Clinic A' };
    await page.goto(`${web.origin}/view#shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`);

    const summary = page.locator('#summary');
    await summary.getByRole('heading', { level: 2, name: 'Documents' }).waitFor();
    await page.getByText('Knee X-ray from Clinic A', { exact: true }).waitFor();
    const open = summary.getByRole('link', { name: 'Open Knee X-ray image' });
    assert.match(String(await open.getAttribute('href')), /^blob:/);
    const [popup] = await Promise.all([page.waitForEvent('popup'), open.click()]);
    await popup.waitForLoadState();
    assert.equal(await popup.evaluate(() => document.contentType), 'image/jpeg');
    await popup.close();

    await summary.getByText('Too large to open here (the limit is 10 MB).').waitFor();
    assert.equal(await summary.getByRole('link', { name: /Full imaging study/ }).count(), 0);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('hostile attachments (HTML, SVG with script, JavaScript, a type with parameters) are listed but never opened or downloaded; an off-link url is not fetched', async () => {
    const key = randomBytes(32);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const script = '<script>window.top.pwned = 1</script>';
    const attachments = [
      { contentType: 'text/html', title: 'Page', data: b64(`<html><body>${script}</body></html>`) },
      { contentType: 'image/svg+xml', title: 'Drawing', data: b64(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.top.pwned=1">${script}</svg>`) },
      { contentType: 'application/javascript', title: 'Code', data: b64('window.top.pwned = 1') },
      { contentType: 'text/html; charset=utf-8', title: 'Page two', data: b64(script) },
      // A url that names no file of the link is not fetched from elsewhere.
      { contentType: 'application/pdf', title: 'Elsewhere', url: `${web.origin}/not-in-the-link/Binary/nowhere` },
    ];
    const visitDocument = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [
        {
          fullUrl: 'urn:uuid:c1',
          resource: {
            resourceType: 'Composition',
            status: 'final',
            title: 'Visit',
            type: { text: 'Visit note' },
            date: '2026-11-23',
            author: [{ display: 'Clinic A' }],
            section: [],
          },
        },
        ...attachments.map((attachment, i) => ({ fullUrl: `urn:uuid:d${i}`, resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] } })),
      ],
    };
    const file = await encryptFile(JSON.stringify(visitDocument), key, 'application/fhir+json', { zip: true });
    const manifestUrl = `${web.origin}/shl/hostile-test`;
    const { page, errors } = await openPage(web.browser);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.route(manifestUrl, (route) => route.fulfill({ json: { files: [{ contentType: 'application/fhir+json', embedded: file }] } }));
    const payload = { url: manifestUrl, key: key.toString('base64url') };
    await page.goto(`${web.origin}/view#shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`);

    const summary = page.locator('#summary');
    await summary.getByRole('heading', { level: 2, name: 'Documents' }).waitFor();
    for (const a of attachments) await summary.getByText(a.title, { exact: true }).waitFor();
    assert.equal(await summary.locator('.doc-list a').count(), 0, 'no Open or Download link for any of them');
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.ok(!requested.some((u) => u.includes('not-in-the-link')), 'the off-link url is not fetched');
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test('many attachments naming one Binary share its bytes and one blob: URL (a 10 MB file is not turned into gigabytes)', async () => {
    const key = randomBytes(32);
    const many = 40;
    const visitDocument = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [
        {
          fullUrl: 'urn:uuid:c1',
          resource: {
            resourceType: 'Composition',
            status: 'final',
            title: 'Visit',
            type: { text: 'Visit note' },
            date: '2026-11-23',
            author: [{ display: 'Clinic A' }],
            section: [],
          },
        },
        ...Array.from({ length: many }, (_, i) => ({
          fullUrl: `urn:uuid:d${i}`,
          resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'image/jpeg', title: `Copy ${i}`, url: 'Binary/big' } }] },
        })),
        {
          fullUrl: 'urn:uuid:b1',
          resource: { resourceType: 'Binary', id: 'big', contentType: 'image/jpeg', data: Buffer.concat([JPEG, randomBytes(2 * 1024 * 1024)]).toString('base64') },
        },
      ],
    };
    const file = await encryptFile(JSON.stringify(visitDocument), key, 'application/fhir+json', { zip: true });
    const manifestUrl = `${web.origin}/shl/shared-binary-test`;
    const { page, errors } = await openPage(web.browser);
    await page.route(manifestUrl, (route) => route.fulfill({ json: { files: [{ contentType: 'application/fhir+json', embedded: file }] } }));
    const payload = { url: manifestUrl, key: key.toString('base64url') };
    await page.goto(`${web.origin}/view#shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`);

    const summary = page.locator('#summary');
    await summary.getByRole('link', { name: `Open Copy ${many - 1}` }).waitFor();
    const hrefs = await summary.locator('.doc-list a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    assert.equal(hrefs.length, many * 2, 'Open and Download for each');
    assert.equal(new Set(hrefs).size, 1, 'one blob: URL for the one Binary');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
