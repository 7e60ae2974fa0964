import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeviceResponse, Document, MDoc } from '@auth0/mdl';
import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { IdentityRequestView } from '../../src/identity/mdl/mdl-identity.js';
import type { DcApiRequest } from '../../src/identity/mdl/request.js';
import { dcApiSessionTranscript, sessionTranscriptBytes } from '../../src/identity/mdl/session-transcript.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ALICE, identityPresentation, issueMdl, makeIaca, present, type TestIaca, type TestMdl } from '../identity/mdl-wallet.js';

/** Attacks on mDL identity over OpenID4VP (issue 17) that the feature's own tests do not make. */
const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const ORIGIN = 'http://127.0.0.1:8080';
const DAY = 24 * 3600_000;
const alicesBundle = () => clipboardBundle({ given: 'Alice Marie', family: 'Rivera', birthDate: '1984-03-02' });

/** An mDL-doctype document whose elements are all in the AAMVA namespace, none in org.iso.18013.5.1. */
async function aamvaOnly(iaca: TestIaca, clock: ManualClock, req: DcApiRequest): Promise<Uint8Array> {
  const ns = 'org.iso.18013.5.1.aamva';
  const device = await generateKeyPair('ES256', { extractable: true });
  const doc = await new Document('org.iso.18013.5.1.mDL')
    .addIssuerNameSpace(ns, { ...ALICE })
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo({ signed: new Date(clock.now() - DAY), validFrom: new Date(clock.now() - DAY), validUntil: new Date(clock.now() + DAY) })
    .addDeviceKeyInfo({ deviceKey: await exportJWK(device.publicKey) })
    .sign({ issuerPrivateKey: iaca.ds.privateJwk, issuerCertificate: iaca.ds.pem, alg: 'ES256' });
  const pd = {
    id: 'x',
    input_descriptors: [
      {
        id: 'org.iso.18013.5.1.mDL',
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: { limit_disclosure: 'required' as const, fields: ['family_name', 'given_name'].map((f) => ({ path: [`$['${ns}']['${f}']`], intent_to_retain: false })) },
      },
    ],
  };
  const response = await DeviceResponse.from(new MDoc([doc]).encode())
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(sessionTranscriptBytes(dcApiSessionTranscript(ORIGIN, req.data.nonce)))
    .authenticateWithSignature(await exportJWK(device.privateKey), 'ES256')
    .sign();
  return response.encode();
}

/** Every row of every table of the gateway, as text. */
async function everything(gw: TestGateway): Promise<string> {
  const { rows } = await gw.services.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
  );
  const parts: string[] = [];
  for (const { table_name } of rows) {
    const r = await gw.services.db.query<{ t: string }>(`SELECT t::text AS t FROM "${table_name}" t`);
    parts.push(...r.rows.map((x) => x.t));
  }
  return parts.join('\n');
}

for (const tdb of testDatabases()) {
  describe(`mDL attacks (${tdb.name})`, () => {
    let gw: TestGateway;
    let clock: ManualClock;
    let iaca: TestIaca;
    let alice: TestMdl;
    let kiosk: string;

    before(async () => {
      clock = new ManualClock(Date.now());
      iaca = await makeIaca();
      alice = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + 365 * DAY) });
      gw = await startTestGateway({ db: await tdb.open(), clock, trust: { mdl: { trustAnchors: [iaca.pem], ial: 2, aal: 2 } } });
      kiosk = await gw.clientToken(KIOSK);
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });

    const newRequest = async (): Promise<IdentityRequestView> => {
      const r = await request(gw.app).post('/checkin/identity-requests').auth(kiosk, { type: 'bearer' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as IdentityRequestView;
    };
    const checkIn = (identity: unknown) => request(gw.app).post('/checkin').auth(kiosk, { type: 'bearer' }).send({ identityPresentation: identity, bundle: alicesBundle() });

    test('an mDL with no org.iso.18013.5.1 namespace is a 401 refusal, not a 500', async () => {
      const view = await newRequest();
      const r = await checkIn(identityPresentation(view.id, await aamvaOnly(iaca, clock, view.request)));
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
    });

    test('two copies of one presentation racing: exactly one checks in, the other is 409', async () => {
      const view = await newRequest();
      const p = identityPresentation(view.id, await present(alice, view.request, ORIGIN));
      const statuses = (await Promise.all([checkIn(p), checkIn(p)])).map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 409]);
    });

    test('the document number and elements the wallet disclosed beyond the five never reach the database or the log', async () => {
      const view = await newRequest();
      const request5 = view.request;
      // A wallet that over-discloses: the portrait and address as well.
      const over: DcApiRequest = JSON.parse(JSON.stringify(request5));
      over.data.dcql_query.credentials[0]!.claims.push({ path: ['org.iso.18013.5.1', 'portrait'], intent_to_retain: false }, {
        path: ['org.iso.18013.5.1', 'resident_address'],
        intent_to_retain: false,
      } as never);
      const r = await checkIn(identityPresentation(view.id, await present(alice, over, ORIGIN)));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const stored = await everything(gw);
      const logged = JSON.stringify(gw.logs);
      // (The wallet's address is also the fixture Bundle's, so the portrait stands for what was over-disclosed.)
      for (const secret of [ALICE.document_number, 'not requested']) {
        assert.ok(!stored.includes(secret), `${secret} stored`);
        assert.ok(!logged.includes(secret), `${secret} logged`);
      }
    });

    test('a verified identity left on a session that expires unused does not stay in the database', async () => {
      const opened = (await request(gw.app).post('/checkin/sessions').auth(kiosk, { type: 'bearer' })).body as { id: string; identityRequest: IdentityRequestView };
      const presented = identityPresentation(opened.identityRequest.id, await present(alice, opened.identityRequest.request, ORIGIN));
      const verified = await request(gw.app).post(`/checkin/sessions/${opened.id}/identity`).auth(kiosk, { type: 'bearer' }).send({ identityPresentation: presented });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      clock.advance((gw.services.config.checkinSessionTtlSeconds + 1) * 1000);
      kiosk = await gw.clientToken(KIOSK);
      // The kiosk goes on opening sessions (no mDL verified again).
      assert.equal((await request(gw.app).post('/checkin/sessions').auth(kiosk, { type: 'bearer' })).status, 201);
      const { rows } = await gw.services.db.query<{ identity: unknown }>('SELECT identity FROM checkin_session WHERE id = $1', [opened.id]);
      assert.equal(rows[0]!.identity, null);
    });

    test('a client access token is not a patient token', async () => {
      const r = await request(gw.app)
        .get('/checkin/00000000-0000-0000-0000-000000000000')
        .auth(await gw.clientToken({ ...KIOSK, scopes: ['system/checkin.write'] }), { type: 'bearer' });
      assert.ok(r.status === 401 || r.status === 403 || r.status === 404, String(r.status));
    });

    test("the patient token (for the patient's own reads) is not an identity token: it cannot check in at a kiosk or a session", async () => {
      const req = await request(gw.app).post('/identity-requests');
      const t = await request(gw.app)
        .post('/auth/patient-token')
        .send({ identityPresentation: identityPresentation(req.body.id, await present(alice, req.body.request, ORIGIN)) });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const token = t.body.access_token as string;
      const kioskCheckin = await request(gw.app).post('/checkin').auth(kiosk, { type: 'bearer' }).send({ identityToken: token, bundle: alicesBundle() });
      assert.equal(kioskCheckin.status, 401, JSON.stringify(kioskCheckin.body));
      const session = (await request(gw.app).post('/checkin/sessions').auth(kiosk, { type: 'bearer' })).body as { id: string };
      const submitted = await request(gw.app).post(`/checkin/sessions/${session.id}/submit`).auth(token, { type: 'bearer' }).send({ bundle: alicesBundle() });
      assert.equal(submitted.status, 401, JSON.stringify(submitted.body));
    });

    test('the open POST /identity-requests cannot grow the table without bound, nor one address spend the budget alone', async () => {
      // Addresses as the trusted loopback proxy reports them (X-Forwarded-For): decisions, not connections.
      const from = (address: string) => request(gw.app).post('/identity-requests').set('X-Forwarded-For', address);
      for (let i = 0; i < 10; i++) assert.equal((await from('203.0.113.7')).status, 201);
      const greedy = await from('203.0.113.7');
      assert.equal(greedy.status, 429);
      assert.ok(Number(greedy.headers['retry-after']) > 0);
      assert.equal((await from('203.0.113.8')).status, 201, 'another address still gets one');
      let refused: request.Response | undefined;
      for (let i = 0; i < 1200 && !refused; i++) {
        const r = await from(`10.0.${i >> 8}.${i & 255}`);
        if (r.status !== 201) refused = r;
      }
      assert.ok(refused, 'still creating rows after 1200 requests');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers['retry-after']) > 0);
      const { rows } = await gw.services.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM identity_request WHERE purpose = 'patient' AND used_at IS NULL AND expires_at > $1",
        [new Date(clock.now())],
      );
      assert.ok((rows[0]?.n ?? 0) <= 1000);
      // Kiosk requests are counted apart, and open again once the patient ones expire.
      await newRequest();
      clock.advance(301_000);
      kiosk = await gw.clientToken(KIOSK);
      assert.equal((await from('10.9.9.9')).status, 201);
    });
  });
}
