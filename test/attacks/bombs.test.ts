import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { JWK } from 'jose';
import request from 'supertest';
import type { Db } from '../../src/db/db.js';
import { MAX_JSON_DEPTH } from '../../src/json-limits.js';
import { encodeNumericQr, jwsToNumeric } from '../../src/shc/numeric-qr.js';
import { buildShlink } from '../../src/shl/link.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { listRoutes } from '../helpers/routes.js';
import { startShlWalletHost, type ShlWalletHost } from '../helpers/shl-wallet-host.js';
import { cardPayload, issuerKey, minimalBundle, signCard, type IssuerKey } from '../shc/card-issuer.js';
import { restHookSubscription } from './subscription-body.js';

/**
 * Compression, encryption and size bombs, one row each. Every row goes through a real route and
 * must end in the expected status with an OperationOutcome, store nothing, and leave the process
 * answering /health. Caps under test: SHC inflate 1 MB (src/shc/deflate.ts), SHL plaintext at check-in 1 MB,
 * the body limit (src/config.ts limits), request body 1 MB and nesting 100 (src/http/body.ts), SHL manifest 1 MB / 20
 * files / file 5 MB (src/shl/receiver.ts), 40 QR chunks (src/checkin/submission.ts).
 */

const ISS = 'https://issuer.bombs.test';
const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const KEY = Buffer.alloc(32, 7).toString('base64url');
const MB = 1024 * 1024;
const STORED_TABLES = ['checkin', 'fhir_resource', 'visit', 'shl_link', 'subscription'] as const;

type Reply = { status: number; body: { resourceType?: string; issue?: { code: string }[] }; text: string };

async function storedCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of STORED_TABLES) counts[t] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
  return counts;
}

/** A hostile SHL host on 127.0.0.1: oversized manifests and files. */
async function startHostileShlHost(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const manifest = (files: unknown[]) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ files }));
    switch (req.url) {
      case '/huge-manifest': {
        // Streamed without a Content-Length: the cap must hold while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"files":[],"padding":"');
        for (let i = 0; i < 3; i++) res.write('A'.repeat(MB));
        res.end('"}');
        return;
      }
      case '/huge-manifest-declared':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(3 * MB) }).end(Buffer.alloc(3 * MB, 0x20));
        return;
      case '/many-files':
        return manifest(Array.from({ length: 5000 }, (_, i) => ({ contentType: 'application/fhir+json', location: `${origin}/f/${i}` })));
      case '/huge-file-manifest':
        return manifest([{ contentType: 'application/fhir+json', location: `${origin}/huge-file` }]);
      case '/huge-hook':
        // A subscriber endpoint that answers the handshake with far more than its status.
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 8 && !res.destroyed; i++) res.write(Buffer.alloc(MB, 0x20));
        res.end();
        return;
      case '/huge-file':
        res.writeHead(200, { 'content-type': 'application/jose' });
        for (let i = 0; i < 6; i++) res.write(Buffer.alloc(MB, 0x41));
        res.end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Patient extension chain `levels` deep: valid FHIR at any depth, two JSON levels per step. */
function deeplyNestedPatientBundle(levels: number): string {
  let ext = '{"url":"http://bombs.test/e","valueString":"v"}';
  for (let i = 0; i < levels; i++) ext = `{"url":"http://bombs.test/e","extension":[${ext}]}`;
  return JSON.stringify(clipboardBundle()).replace('"resourceType":"Patient",', `"resourceType":"Patient","extension":[${ext}],`);
}

for (const tdb of testDatabases()) {
  describe(`compression, encryption and size bombs (${tdb.name})`, () => {
    let idp: Idp;
    let wallet: ShlWalletHost;
    let hostile: Awaited<ReturnType<typeof startHostileShlHost>>;
    let issuer: IssuerKey;
    let gw: TestGateway;
    let kiosk: string;
    /** A card from a trusted issuer whose payload inflates to 4 MB (the cap is 1 MB). */
    let bombCard: string;
    /** Cards whose Patient nests 400 and 3,000 JSON levels deep. */
    let deepCards: string[] = [];

    before(async () => {
      idp = await startIdp();
      wallet = await startShlWalletHost();
      hostile = await startHostileShlHost();
      issuer = await issuerKey();
      gw = await startTestGateway({
        db: await tdb.open(),
        listen: true,
        trust: {
          identityProviders: [idp.providerConfig()],
          shcIssuers: [{ iss: ISS, jwks: { keys: [issuer.publicJwk as JWK & Record<string, unknown>] } }],
          outboundAllowlist: ['127.0.0.1'],
        },
      });
      kiosk = await gw.clientToken(KIOSK);
      const nbf = Math.floor(Date.now() / 1000) - 60;
      bombCard = await signCard(issuer, cardPayload(ISS, nbf, { padding: 'A'.repeat(4 * MB) }));
      deepCards = await Promise.all(
        [200, 1500].map((levels) => {
          // Spliced in as text: building the object would recurse as deep as the attack.
          const text = JSON.stringify(cardPayload(ISS, nbf)).replace(JSON.stringify(minimalBundle), deeplyNestedPatientBundle(levels));
          return signCard(issuer, deflateRawSync(text));
        }),
      );
    });
    after(async () => {
      await gw.close();
      await wallet.close();
      await hostile.close();
      await idp.close();
      await tdb.cleanup();
    });

    const idToken = () => idp.token({ sub: 'john', ...patientClaims() });
    const checkin = async (payload: Record<string, unknown>): Promise<Reply> =>
      request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idToken(), ...payload });
    const walletLink = (content: string, opts: { embedded?: boolean; flags?: 'U'; contentType?: string } = {}) =>
      wallet.createLink({ files: [{ contentType: opts.contentType ?? 'application/fhir+json', content, zip: true }], ...opts });
    /** Raw bytes to the listening gateway (supertest would re-encode a Buffer sent as JSON). */
    const raw = async (path: string, body: Buffer, headers: Record<string, string>): Promise<Reply> => {
      const res = await fetch(`${gw.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${kiosk}`, 'content-type': 'application/json', ...headers },
        body: new Uint8Array(body),
      });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text) as Reply['body'], text };
    };
    const inflatingTo = (bytes: number) => Buffer.from(JSON.stringify({ bundle: { resourceType: 'Bundle', padding: 'A'.repeat(bytes) } }));

    const rows: [name: string, send: () => Promise<Reply>, status: number[], issueCode?: string][] = [
      // SMART Health Cards: the payload is inflated (capped) before anything else is looked at.
      ['SHC payload inflating to 4 MB, as a bare JWS', () => checkin({ shc: [bombCard] }), [413]],
      ['SHC payload inflating to 4 MB, as a numeric QR', () => checkin({ shc: [encodeNumericQr(bombCard)] }), [413]],
      [
        'SHC payload inflating to 4 MB, split across three QR chunks',
        () => {
          const third = Math.ceil(bombCard.length / 3);
          const parts = [0, 1, 2].map((i) => `shc:/${i + 1}/3/${jwsToNumeric(bombCard.slice(i * third, (i + 1) * third))}`);
          return checkin({ shc: [parts[2], parts[0], parts[1]] });
        },
        [413],
      ],
      ['SHC payload inflating to 4 MB, as a .smart-health-card file', () => checkin({ shc: { verifiableCredential: [bombCard] } }), [413]],
      [
        'SHC payload inflating to 4 MB, submitted by the wallet to a kiosk session',
        async () => {
          const session = await request(gw.app).post('/checkin/sessions').auth(kiosk, { type: 'bearer' }).send({});
          assert.equal(session.status, 201);
          return request(gw.app)
            .post(`/checkin/sessions/${session.body.id}/submit`)
            .auth(await idToken(), { type: 'bearer' })
            .send({ shc: [bombCard] });
        },
        [413],
      ],
      [
        'SHC inside an SHL, its payload inflating to 4 MB',
        async () => checkin({ shlink: await walletLink(JSON.stringify({ verifiableCredential: [bombCard] }), { contentType: 'application/smart-health-card' }) }),
        [413],
      ],
      // SMART Health Link files: JWE with zip DEF, plaintext capped at 5 MB.
      [
        'SHL file JWE (zip DEF) inflating to 6 MB, behind a location',
        async () => checkin({ shlink: await walletLink(JSON.stringify({ resourceType: 'Bundle', type: 'collection', padding: 'A'.repeat(6 * MB) })) }),
        [413],
      ],
      [
        'SHL file JWE (zip DEF) inflating to 6 MB, embedded',
        async () => checkin({ shlink: await walletLink(JSON.stringify({ resourceType: 'Bundle', type: 'collection', padding: 'A'.repeat(6 * MB) }), { embedded: true }) }),
        [413],
      ],
      [
        'SHL files each under the cap, inflating to 12 MB together (found by this catalogue: only each file was capped)',
        async () =>
          checkin({
            shlink: await wallet.createLink({
              files: [0, 1, 2, 3].map(() => ({
                contentType: 'application/fhir+json',
                content: JSON.stringify({ resourceType: 'Bundle', type: 'collection', padding: 'A'.repeat(3 * MB) }),
                zip: true,
              })),
            }),
          }),
        [413],
      ],
      [
        'SHL file JWE (zip DEF) inflating to 6 MB, U-flag direct file',
        async () => checkin({ shlink: await walletLink(JSON.stringify({ resourceType: 'Bundle', type: 'collection', padding: 'A'.repeat(6 * MB) }), { flags: 'U' }) }),
        [413],
      ],
      // Nesting past the limit inside decoded content, which no body parser sees (found by this catalogue: was a 500).
      ['a resource nested 400 levels deep inside an SHL file', async () => checkin({ shlink: await walletLink(deeplyNestedPatientBundle(200)) }), [422], 'too-costly'],
      ['a resource nested 3,000 levels deep inside an SHL file', async () => checkin({ shlink: await walletLink(deeplyNestedPatientBundle(1500)) }), [422], 'too-costly'],
      ['a resource nested 400 levels deep inside a SMART Health Card', () => checkin({ shc: [deepCards[0]] }), [422], 'too-costly'],
      ['a resource nested 3,000 levels deep inside a SMART Health Card', () => checkin({ shc: [deepCards[1]] }), [422], 'too-costly'],
      // Request bodies.
      ['a request body over the 1 MB limit', () => checkin({ bundle: { resourceType: 'Bundle', type: 'collection', padding: 'A'.repeat(MB + 1) } }), [413]],
      ['a gzip request body inflating to 64 MB', () => raw('/checkin', gzipSync(inflatingTo(64 * MB)), { 'content-encoding': 'gzip' }), [413]],
      ['a deflate request body inflating to 64 MB', () => raw('/checkin', deflateSync(inflatingTo(64 * MB)), { 'content-encoding': 'deflate' }), [413]],
      ['a brotli request body inflating to 64 MB', () => raw('/checkin', brotliCompressSync(inflatingTo(64 * MB)), { 'content-encoding': 'br' }), [413]],
      [
        'a form body with 10,000 parameters',
        () => raw('/auth/token', Buffer.from(Array.from({ length: 10_000 }, (_, i) => `p${i}=1`).join('&')), { 'content-type': 'application/x-www-form-urlencoded' }),
        [413],
      ],
      ['JSON nested one level past the limit', () => raw('/checkin', Buffer.from(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`), {}), [413]],
      ['JSON nested 150,000 levels deep', () => raw('/checkin', Buffer.from(`${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`), {}), [413]],
      // Counts and arrays.
      ['41 QR chunks', () => checkin({ shc: Array.from({ length: 41 }, (_, i) => `shc:/${i + 1}/41/${jwsToNumeric('a')}`) }), [400]],
      ['a QR chunk claiming to be 1 of 999', () => checkin({ shc: [`shc:/1/999/${jwsToNumeric(bombCard.slice(0, 50))}`] }), [400]],
      ['40 QR chunks of 20,000 digits each', () => checkin({ shc: Array.from({ length: 40 }, (_, i) => `shc:/${i + 1}/40/${'11'.repeat(9_990)}`) }), [400, 422]],
      ['a .smart-health-card file with 100,000 credentials', () => checkin({ shc: { verifiableCredential: Array.from({ length: 100_000 }, () => 'a') } }), [400]],
      [
        'a check-in Bundle with 150,000 entries',
        () => checkin({ bundle: { resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: 150_000 }, () => ({})) } }),
        [400, 413, 422],
      ],
      // Upstream answers: the guarded fetch caps them (502, the upstream's fault, not the caller's).
      ['an SHL manifest of 3 MB, streamed', () => checkin({ shlink: buildShlink({ url: `${hostile.origin}/huge-manifest`, key: KEY }) }), [502]],
      ['an SHL manifest declaring 3 MB', () => checkin({ shlink: buildShlink({ url: `${hostile.origin}/huge-manifest-declared`, key: KEY }) }), [502]],
      ['an SHL manifest listing 5,000 files', () => checkin({ shlink: buildShlink({ url: `${hostile.origin}/many-files`, key: KEY }) }), [502]],
      ['an SHL file of 6 MB', () => checkin({ shlink: buildShlink({ url: `${hostile.origin}/huge-file-manifest`, key: KEY }) }), [502]],
    ];

    for (const [name, send, statuses, issueCode] of rows) {
      test(`${name} → ${statuses.join('/')}, nothing stored, still alive`, async () => {
        const before = await storedCounts(gw.services.db);
        const r = await send();
        assert.ok(statuses.includes(r.status), `${r.status}: ${r.text.slice(0, 300)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome', r.text.slice(0, 300));
        if (r.status === 413 || issueCode) assert.equal(r.body.issue?.[0]?.code, issueCode ?? 'too-costly', r.text.slice(0, 300));
        assert.deepEqual(await storedCounts(gw.services.db), before, 'nothing stored');
        assert.equal((await request(gw.app).get('/health')).status, 200, 'the process still answers');
      });
    }

    test('every route that takes a body refuses one nested past the limit with 413, before auth and routing', async () => {
      const deep = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
      const routes = listRoutes(gw.app).filter((r) => r.method === 'POST' || r.method === 'PUT');
      assert.ok(routes.length >= 10, `only ${routes.length} body routes`);
      for (const route of routes) {
        const path = route.path.replace(/:[A-Za-z]+/g, KEY);
        const r = await request(gw.app)[route.method === 'PUT' ? 'put' : 'post'](path).set('Content-Type', 'application/fhir+json').send(deep);
        assert.equal(r.status, 413, `${route.method} ${route.path}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      }
      assert.equal((await request(gw.app).get('/health')).status, 200);
    });

    test('23,000 tiny resources within the body cap are refused by the entry cap before validation (found by this catalogue: was a 500, then seconds of work)', async () => {
      const before = await storedCounts(gw.services.db);
      const bundle = clipboardBundle();
      const devices = Array.from({ length: 23_000 }, () => ({ resource: { resourceType: 'Device' } }));
      const r = await checkin({ bundle: { ...bundle, entry: [bundle.entry![0]!, ...devices] } });
      assert.equal(r.status, 413, r.text.slice(0, 300));
      assert.match(r.text, /23001 entries; at most 1000/);
      assert.deepEqual(await storedCounts(gw.services.db), before);
    });

    test('a subscriber answering the handshake with 8 MB is read no further than its cap; the subscription is not activated', async () => {
      const network = await gw.clientToken({ clientId: 'network', organization: 'Network', scopes: ['system/Subscription.write'] });
      const r = await request(gw.app)
        .post('/fhir/Subscription')
        .auth(network, { type: 'bearer' })
        .send(restHookSubscription(`${hostile.origin}/huge-hook`));
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.equal(r.body.status, 'error');
      assert.equal((await request(gw.app).get('/health')).status, 200);
    });

    test('control: a card and a link just under the caps still check in', async () => {
      const nbf = Math.floor(Date.now() / 1000) - 60;
      const padded = await signCard(issuer, cardPayload(ISS, nbf, { padding: 'A'.repeat(900 * 1024) }));
      const card = await checkin({ shc: [padded] });
      assert.equal(card.status, 201, card.text.slice(0, 300));
      const bundle = clipboardBundle() as unknown as Record<string, unknown>;
      const link = await checkin({ shlink: await walletLink(JSON.stringify({ ...bundle, padding: 'A'.repeat(900 * 1024) })) });
      assert.equal(link.status, 201, link.text.slice(0, 300));
    });
  });
}
