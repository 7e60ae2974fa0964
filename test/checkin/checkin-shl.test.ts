import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Provenance } from '@medplum/fhirtypes';
import request from 'supertest';
import { buildShlink } from '../../src/shl/link.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, readVector, SHC_EXAMPLE_ISSUER, SHC_VECTORS, shcExampleIssuer } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { startShlWalletHost, type ShlWalletHost } from '../helpers/shl-wallet-host.js';

const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const cardFile = readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card');
const KEY = Buffer.alloc(32, 1).toString('base64url');

const typesOf = (b: Bundle) =>
  b
    .entry!.map((e) => e.resource!.resourceType)
    .filter((t) => t !== 'Provenance' && t !== 'Encounter')
    .sort();

for (const tdb of testDatabases()) {
  describe(`check-in with SMART Health Links (${tdb.name})`, () => {
    let idp: Idp;
    let host: ShlWalletHost;
    let gw: TestGateway;
    let kiosk: string;
    let canary: Server;
    let canaryHits = 0;
    let canaryPort = 0;

    before(async () => {
      idp = await startIdp();
      host = await startShlWalletHost();
      canary = createServer((_req, res) => {
        canaryHits++;
        res.end('{}');
      });
      canary.on('connection', () => canaryHits++);
      await new Promise<void>((resolve) => canary.listen(0, '127.0.0.2', resolve));
      canaryPort = (canary.address() as AddressInfo).port;
      gw = await startTestGateway({
        db: await tdb.open(),
        trust: {
          identityProviders: [idp.providerConfig()],
          shcIssuers: [shcExampleIssuer()],
          outboundAllowlist: ['127.0.0.1'],
        },
      });
      kiosk = await gw.clientToken(KIOSK);
    });
    after(async () => {
      await gw.close();
      await host.close();
      await idp.close();
      canary.closeAllConnections();
      await new Promise<void>((resolve) => canary.close(() => resolve()));
      await tdb.cleanup();
    });

    const checkin = async (shlink: string, passcode?: string) =>
      request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }), shlink, ...(passcode ? { passcode } : {}) });

    test('an L link with a card behind a location URL checks in, verified, same resources as the card itself', async () => {
      const shlink = await host.createLink({ flags: 'L', files: [{ contentType: 'application/smart-health-card', content: cardFile }] });
      const r = await checkin(shlink);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const prov = (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Provenance')!.resource as Provenance;
      assert.equal(prov.entity![0]!.extension![0]!.valueBoolean, true);
      assert.match(prov.entity![0]!.what.identifier!.value!, new RegExp(SHC_EXAMPLE_ISSUER));
      const direct = await request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }), shc: JSON.parse(cardFile) });
      assert.deepEqual(typesOf(r.body), typesOf(direct.body));
      assert.ok(
        host.requests.some((q) => q.recipient?.includes('Clinic A')),
        'the recipient names the organization',
      );
    });

    test('embedded files and FHIR content: a plain Bundle behind an SHL is stored, unverified', async () => {
      const shlink = await host.createLink({ embedded: true, files: [{ contentType: 'application/fhir+json', content: JSON.stringify(clipboardBundle()) }] });
      const r = await checkin(shlink);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(typesOf(r.body).includes('Coverage'));
      const prov = (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Provenance')!.resource as Provenance;
      assert.equal(prov.entity![0]!.extension![0]!.valueBoolean, false);
    });

    test('a U link serves its single file directly', async () => {
      const shlink = await host.createLink({ flags: 'U', files: [{ contentType: 'application/smart-health-card', content: cardFile }] });
      const r = await checkin(shlink);
      assert.equal(r.status, 201, JSON.stringify(r.body));
    });

    test('a P link: wrong passcode carries remainingAttempts, right one works, lockout ends it', async () => {
      const shlink = await host.createLink({ flags: 'P', passcode: '1234', maxAttempts: 2, files: [{ contentType: 'application/smart-health-card', content: cardFile }] });
      const missing = await checkin(shlink);
      assert.equal(missing.status, 422, 'a P link without a passcode is refused before any request');
      const wrong = await checkin(shlink, '0000');
      assert.equal(wrong.status, 422);
      assert.equal(wrong.body.issue[0].code, 'security');
      assert.match(JSON.stringify(wrong.body), /"valueInteger":1/);
      const right = await checkin(shlink, '1234');
      assert.equal(right.status, 201);
      await checkin(shlink, '0001');
      const locked = await checkin(shlink, '1234');
      assert.ok([404, 410].includes(locked.status), `locked link: ${locked.status}`);
      assert.equal(locked.body.resourceType, 'OperationOutcome');
    });

    test('an expired link is refused without contacting the host', async () => {
      const shlink = await host.createLink({ exp: Math.floor(Date.now() / 1000) - 60, files: [{ contentType: 'application/smart-health-card', content: cardFile }] });
      const before = host.requests.length;
      const r = await checkin(shlink);
      assert.equal(r.status, 410);
      assert.equal(host.requests.length, before);
    });

    test('an unreachable host is 502', async () => {
      const dead = createServer();
      await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
      const port = (dead.address() as AddressInfo).port;
      await new Promise<void>((resolve) => dead.close(() => resolve()));
      const local = await startTestGateway({ db: gw.services.db, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
      const token = await local.clientToken(KIOSK);
      const r = await request(local.app)
        .post('/checkin')
        .auth(token, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }), shlink: buildShlink({ url: `http://127.0.0.1:${port}/m/${KEY}`, key: KEY }) });
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.doesNotMatch(JSON.stringify(r.body), /identity provider/);
    });

    test('SSRF: links to a canary that is not allow-listed are refused and the canary sees nothing', async () => {
      const targets = [
        `http://127.0.0.2:${canaryPort}/m/${KEY}`,
        `https://127.0.0.2:${canaryPort}/m/${KEY}`,
        `https://2130706434:${canaryPort}/m/${KEY}`,
        `https://[::1]:${canaryPort}/m/${KEY}`,
        `https://localhost:${canaryPort}/m/${KEY}`,
      ];
      for (const url of targets) {
        const r = await checkin(buildShlink({ url, key: KEY }));
        assert.equal(r.status, 422, `${url}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.issue[0].code === 'security' || r.body.issue[0].code === 'processing', true);
      }
      assert.equal(canaryHits, 0);
    });
  });
}
