import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ManualClock, systemClock } from '../../src/clock.js';
import { REMAINING_ATTEMPTS_URL } from '../../src/http/errors.js';
import type { HttpError } from '../../src/http/http-error.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { parseShlink } from '../../src/shl/link.js';
import { shlMetrics } from '../../src/shl/metrics.js';
import { FHIR_TYPE, SHC_TYPE, retrieveShl, type ShlReceiverDeps, type ShlRetrieval } from '../../src/shl/receiver.js';
import { httpAnswer } from '../helpers/http-answer.js';
import { SHC_VECTORS, SHL_VECTORS, readVector } from '../helpers/fixtures.js';
import { startShlWalletHost, type ShlWalletHost } from '../helpers/shl-wallet-host.js';

const LOOPBACK = { allowlist: ['127.0.0.1'] };
const deps: ShlReceiverDeps = { fetch: createGuardedFetch(LOOPBACK), clock: systemClock };
const SHC_FILE = readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card');
const BUNDLE = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] });
const recipient = 'Clinic A front desk';

const retrieve = (shlink: string, opts: { passcode?: string; embeddedLengthMax?: number } = {}, d: ShlReceiverDeps = deps) =>
  retrieveShl(parseShlink(shlink, LOOPBACK), { recipient, ...opts }, d);

async function fails(p: Promise<unknown>, status: number, code?: string): Promise<HttpError> {
  const err = await p.then(
    () => assert.fail(`expected HTTP ${status}`),
    (x: unknown) => x,
  );
  const e = httpAnswer(err);
  assert.ok(e, String(err));
  assert.equal(e.status, status, e.message);
  if (code) assert.equal(e.outcome.issue?.[0]?.code, code);
  return e;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('retrieveShl against a wallet SHL host', () => {
  let wallet: ShlWalletHost;
  before(async () => {
    wallet = await startShlWalletHost();
  });
  after(() => wallet.close());
  const requestsFrom = (n: number) => wallet.requests.slice(n);

  test('L link, files by location: manifest POST with recipient, then one GET per file', async () => {
    const shlink = await wallet.createLink({
      flags: 'L',
      files: [
        { contentType: FHIR_TYPE, content: BUNDLE },
        { contentType: SHC_TYPE, content: SHC_FILE },
      ],
    });
    const start = wallet.requests.length;
    const r = await retrieve(shlink);
    assert.equal(r.files.length, 2);
    const [fhir, shc] = r.files;
    assert.ok(fhir?.contentType === FHIR_TYPE && shc?.contentType === SHC_TYPE);
    assert.equal(fhir.content, BUNDLE);
    assert.equal(fhir.resource.resourceType, 'Bundle');
    assert.equal(fhir.fhirVersion, '4.0.1');
    assert.equal(shc.content, SHC_FILE);
    assert.equal(shc.verifiableCredential.length, 1);
    assert.equal(r.host, wallet.baseUrl);
    const log = requestsFrom(start);
    assert.deepEqual(
      log.map((q) => `${q.method} ${q.path.split('/')[1]}`),
      ['POST m', 'GET f', 'GET f'],
    );
    assert.equal(log[0]?.recipient, recipient);
    assert.equal(log[0]?.passcode, undefined, 'no passcode is sent for a link without P');
  });

  test('embedded files: one request; embeddedLengthMax is passed and honoured', async () => {
    const shlink = await wallet.createLink({ embedded: true, files: [{ contentType: FHIR_TYPE, content: BUNDLE, zip: true }] });
    let start = wallet.requests.length;
    assert.equal((await retrieve(shlink, { embeddedLengthMax: 100_000 })).files[0]?.content, BUNDLE);
    assert.equal(requestsFrom(start).length, 1);
    assert.equal(requestsFrom(start)[0]?.embeddedLengthMax, 100_000);
    start = wallet.requests.length;
    assert.equal((await retrieve(shlink, { embeddedLengthMax: 10 })).files[0]?.content, BUNDLE);
    assert.equal(requestsFrom(start).length, 2, 'too long to embed: fetched from its location');
  });

  test('P link: the right passcode opens it', async () => {
    const shlink = await wallet.createLink({ flags: 'P', passcode: '1234', files: [{ contentType: SHC_TYPE, content: SHC_FILE }] });
    const start = wallet.requests.length;
    assert.equal((await retrieve(shlink, { passcode: '1234' })).files[0]?.content, SHC_FILE);
    assert.equal(requestsFrom(start)[0]?.passcode, '1234');
  });

  test('P link: a wrong passcode is 422 security with remainingAttempts; lockout then reads as gone', async () => {
    const shlink = await wallet.createLink({ flags: 'LP', passcode: 'right', maxAttempts: 2, files: [{ contentType: SHC_TYPE, content: SHC_FILE }] });
    const e = await fails(retrieve(shlink, { passcode: 'wrong' }), 422, 'security');
    const iss = e.outcome.issue?.[0];
    assert.deepEqual(iss?.extension, [{ url: REMAINING_ATTEMPTS_URL, valueInteger: 1 }]);
    assert.match(iss?.diagnostics ?? '', /1 attempt remain/);
    assert.ok(!(iss?.diagnostics ?? '').includes('wrong'), 'the passcode is not echoed');
    const last = await fails(retrieve(shlink, { passcode: 'wrong' }), 422, 'security');
    assert.equal(last.outcome.issue?.[0]?.extension?.[0]?.valueInteger, 0);
    await fails(retrieve(shlink, { passcode: 'right' }), 410, 'deleted');
  });

  test('P link without a passcode: refused before any request (no attempt burnt)', async () => {
    const shlink = await wallet.createLink({ flags: 'P', passcode: 'x', files: [{ contentType: SHC_TYPE, content: SHC_FILE }] });
    const start = wallet.requests.length;
    await fails(retrieve(shlink), 422, 'security');
    assert.equal(requestsFrom(start).length, 0);
  });

  test('U link: one GET with ?recipient=, no manifest', async () => {
    const shlink = await wallet.createLink({ flags: 'U', files: [{ contentType: SHC_TYPE, content: SHC_FILE }] });
    const start = wallet.requests.length;
    const r = await retrieve(shlink);
    assert.equal(r.files[0]?.content, SHC_FILE);
    assert.deepEqual(
      requestsFrom(start).map((q) => [q.method, q.path.split('/')[1], q.recipient]),
      [['GET', 'u', recipient]],
    );
  });

  test('U link whose JWE has no cty: the type is read from the content', async () => {
    const shlink = await wallet.createLink({ flags: 'U', files: [{ contentType: FHIR_TYPE, content: BUNDLE, cty: null }] });
    assert.equal((await retrieve(shlink)).files[0]?.contentType, FHIR_TYPE);
  });

  test('an expired link is refused (410) before any request', async () => {
    const shlink = await wallet.createLink({ exp: Math.floor(Date.now() / 1000) - 60, files: [{ contentType: FHIR_TYPE, content: BUNDLE }] });
    const start = wallet.requests.length;
    await fails(retrieve(shlink), 410, 'deleted');
    assert.equal(requestsFrom(start).length, 0);
    const clock = new ManualClock(Date.now() - 3_600_000);
    assert.equal((await retrieve(shlink, {}, { ...deps, clock })).files.length, 1, 'the same link an hour earlier');
  });

  test('a revoked link (host 404) is 410 gone, for the manifest and for a U link', async () => {
    for (const flags of ['', 'U'] as const) {
      const shlink = await wallet.createLink({ flags, files: [{ contentType: FHIR_TYPE, content: BUNDLE }] });
      wallet.revoke(shlink);
      await fails(retrieve(shlink), 410, 'deleted');
    }
  });

  test('other content types are reported as unsupported, not processed', async () => {
    const api = JSON.stringify({ access_token: 'x', aud: 'https://fhir.example' });
    const shlink = await wallet.createLink({
      files: [
        { contentType: 'application/smart-api-access', content: api },
        { contentType: FHIR_TYPE, content: BUNDLE },
      ],
    });
    const r: ShlRetrieval = await retrieve(shlink);
    assert.deepEqual(r.unsupported, [{ contentType: 'application/smart-api-access' }]);
    assert.equal(r.files.length, 1);
  });

  test('cty contradicting the manifest, or content not of its type, is 422', async () => {
    const mismatch = await wallet.createLink({ files: [{ contentType: FHIR_TYPE, content: BUNDLE, cty: SHC_TYPE }] });
    await fails(retrieve(mismatch), 422);
    const notShc = await wallet.createLink({ files: [{ contentType: SHC_TYPE, content: BUNDLE }] });
    await fails(retrieve(notShc), 422);
    const notFhir = await wallet.createLink({ files: [{ contentType: FHIR_TYPE, content: '[1,2]' }] });
    await fails(retrieve(notFhir), 422);
  });

  test('metrics count retrievals by outcome', async () => {
    const metrics = shlMetrics(createMetrics().registry);
    const shlink = await wallet.createLink({ files: [{ contentType: FHIR_TYPE, content: BUNDLE }] });
    await retrieve(shlink, {}, { ...deps, metrics });
    wallet.revoke(shlink);
    await fails(retrieve(shlink, {}, { ...deps, metrics }), 410);
    const values = (await metrics.retrievals.get()).values.map((v) => [v.labels.outcome, v.value]);
    assert.deepEqual(values.sort(), [
      ['ERR_SHL_INACTIVE', 1],
      ['ok', 1],
    ]);
  });
});

describe('spec vectors served from loopback', () => {
  /** Serves a fixed manifest and files, like the fake host the vectors README describes. */
  async function vectorHost(manifest: (base: string) => unknown, files: Record<string, string>, passcode?: string) {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method === 'POST') {
          if (passcode !== undefined && (JSON.parse(body) as { passcode?: string }).passcode !== passcode) {
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"remainingAttempts":8}');
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(manifest(base)));
          return;
        }
        const jwe = files[req.url ?? ''];
        if (jwe) res.writeHead(200, { 'content-type': 'application/jose' }).end(jwe);
        else res.writeHead(404).end();
      });
    });
    const base = await listen(server);
    return { base, seen, close: () => close(server) };
  }
  const shlink = (payload: object) => `shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;

  test("IG link + ig-file-0 embedded: the receiver ends up holding example 00's card", async () => {
    const ig = JSON.parse(readVector(SHL_VECTORS, 'ig-link-payload.json')) as Record<string, string>;
    const jwe = readVector(SHL_VECTORS, 'ig-file-0.jwe').trim();
    const host = await vectorHost(() => ({ files: [{ contentType: SHC_TYPE, embedded: jwe }] }), {}, 'ig-pass');
    try {
      const link = shlink({ ...ig, url: `${host.base}/qr/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM/m` });
      await fails(retrieve(link, { passcode: 'nope' }), 422, 'security');
      const r = await retrieve(link, { passcode: 'ig-pass' });
      assert.equal(r.files[0]?.content, readVector(SHL_VECTORS, 'ig-file-0.plain.smart-health-card'));
      assert.equal(r.files[0]?.content, SHC_FILE);
    } finally {
      await host.close();
    }
  });

  test('sdk-p: passcode 1234, two locations, kid-without-cty JWEs, accepted at 2023-06-01', async () => {
    const p = JSON.parse(readVector(SHL_VECTORS, 'sdk-p-payload.json')) as Record<string, unknown>;
    const host = await vectorHost(
      (base) => ({ files: [0, 1].map((i) => ({ contentType: SHC_TYPE, location: `${base}/shl/file-${i}` })) }),
      { '/shl/file-0': readVector(SHL_VECTORS, 'sdk-p-file-0.jwe'), '/shl/file-1': readVector(SHL_VECTORS, 'sdk-p-file-1.jwe') },
      '1234',
    );
    try {
      const link = shlink({ ...p, url: `${host.base}/ERn18l4lL3_5yPXMSzx3ZejyMM_XIeWeseXa3DXsJD0` });
      await fails(retrieve(link, { passcode: '1234' }), 410);
      assert.equal(host.seen.length, 0, 'past exp with the real clock: nothing fetched');
      const r = await retrieve(link, { passcode: '1234' }, { ...deps, clock: new ManualClock(Date.UTC(2023, 5, 1)) });
      assert.deepEqual(
        r.files.map((f) => f.content),
        [readVector(SHL_VECTORS, 'sdk-p-file-0.plain.smart-health-card'), readVector(SHL_VECTORS, 'sdk-p-file-1.plain.smart-health-card')],
      );
    } finally {
      await host.close();
    }
  });

  test('sdk-u as published (http://localhost:8090) is refused by the SSRF guard without connecting', async () => {
    const link = parseShlink(readVector(SHL_VECTORS, 'sdk-u-link.txt'), { allowlist: ['localhost:8090'] });
    const clock = new ManualClock(Date.UTC(2023, 5, 1));
    await fails(retrieveShl(link, { recipient }, { fetch: createGuardedFetch({ allowlist: [] }), clock }), 422, 'security');
  });
});

describe('outbound failures', () => {
  const fhirLink = (url: string) => `shlink:/${Buffer.from(JSON.stringify({ url, key: 'rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q' })).toString('base64url')}`;

  test('a private or loopback address is refused (422 security) before connecting', async () => {
    const strict: ShlReceiverDeps = { fetch: createGuardedFetch({ allowlist: [] }), clock: systemClock };
    for (const url of ['https://10.0.0.1/m/x', 'https://169.254.169.254/m/x', 'https://127.0.0.1:1/m/x']) {
      await fails(retrieveShl(parseShlink(fhirLink(url), { allowlist: [] }), { recipient }, strict), 422, 'security');
    }
  });

  test('nothing listening is 502', async () => {
    const server = createServer();
    const base = await listen(server);
    await close(server);
    await fails(retrieve(fhirLink(`${base}/m/x`)), 502);
  });

  test('a host that never answers is 504', async () => {
    const server = createServer(() => undefined);
    const base = await listen(server);
    try {
      await fails(retrieve(fhirLink(`${base}/m/x`), {}, { ...deps, limits: { timeoutMs: 200 } }), 504, 'timeout');
    } finally {
      await close(server);
    }
  });

  test('a bad manifest or an unexpected status is 502; 429 passes Retry-After on', async () => {
    const answers: [number, Record<string, string>, string][] = [
      [200, {}, 'not json'],
      [200, {}, '{"files":[{"contentType":"application/fhir+json"}]}'],
      [500, {}, ''],
      [429, { 'retry-after': '30' }, ''],
    ];
    let i = 0;
    const server = createServer((_req, res) => {
      const [status, headers, body] = answers[i++]!;
      res.writeHead(status, headers).end(body);
    });
    const base = await listen(server);
    try {
      await fails(retrieve(fhirLink(`${base}/m/x`)), 502);
      await fails(retrieve(fhirLink(`${base}/m/x`)), 502);
      await fails(retrieve(fhirLink(`${base}/m/x`)), 502);
      const throttled = await fails(retrieve(fhirLink(`${base}/m/x`)), 429);
      assert.equal(throttled.headers['Retry-After'], '30');
    } finally {
      await close(server);
    }
  });
});
