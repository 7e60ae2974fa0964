import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, CapabilityStatement, Extension, Provenance } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { IdentityRequestView } from '../../src/identity/mdl/mdl-identity.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CompactEncrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ALICE, identityPresentation, issueMdl, makeIaca, present, presentEncrypted, tamper, type Holder, type TestIaca, type TestMdl } from './mdl-wallet.js';

const KIOSK_A = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const KIOSK_B = { clientId: 'kiosk-b', organization: 'Clinic B', scopes: ['system/checkin.write', 'system/checkin.read'] };
const BOB: Holder = { family_name: 'Okafor', given_name: 'Bob', birth_date: '1990-11-30', document_number: 'D7654321', issuing_authority: 'Test State DMV' };
const DAY = 24 * 3600_000;
/** PUBLIC_BASE_URL of the test gateway (not listening), so the origin the wallet binds to. */
const ORIGIN = 'http://127.0.0.1:8080';

const alicesBundle = () => clipboardBundle({ given: 'Alice Marie', family: 'Rivera', birthDate: '1984-03-02' });

async function countStored(gw: TestGateway): Promise<number> {
  const a = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource');
  const b = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM checkin');
  return (a.rows[0]?.n ?? 0) + (b.rows[0]?.n ?? 0);
}

function provenanceOf(bundle: Bundle): Provenance {
  return bundle.entry!.find((e) => e.resource!.resourceType === 'Provenance')!.resource as Provenance;
}

for (const tdb of testDatabases()) {
  describe(`check-in with a mobile driver's licence over OpenID4VP (${tdb.name})`, () => {
    let gw: TestGateway;
    let clock: ManualClock;
    let iaca: TestIaca;
    let alice: TestMdl;
    let kioskA: string;
    let kioskB: string;

    before(async () => {
      clock = new ManualClock(Date.now());
      iaca = await makeIaca();
      alice = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + 365 * DAY) });
      gw = await startTestGateway({ db: await tdb.open(), clock, trust: { mdl: { trustAnchors: [iaca.pem], ial: 2, aal: 2 } } });
      kioskA = await gw.clientToken(KIOSK_A);
      kioskB = await gw.clientToken(KIOSK_B);
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });

    const newRequest = async (token = kioskA): Promise<IdentityRequestView> => {
      const r = await request(gw.app).post('/checkin/identity-requests').auth(token, { type: 'bearer' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as IdentityRequestView;
    };
    const checkIn = (identity: unknown, bundle: Bundle = alicesBundle(), token = kioskA) =>
      request(gw.app).post('/checkin').auth(token, { type: 'bearer' }).send({ identityPresentation: identity, bundle });
    /** POSTs and asserts the refusal left nothing behind. */
    const refusedWith = async (status: number, identity: unknown, bundle?: Bundle) => {
      const before = await countStored(gw);
      const r = await checkIn(identity, bundle);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.equal(await countStored(gw), before, 'nothing stored');
      return r;
    };

    test('the request is the Digital Credentials API form of OpenID4VP 1.0, minimal, single-use and short-lived', async () => {
      const view = await newRequest();
      assert.match(view.id, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(Date.parse(view.expiresAt) - clock.now() <= 300_000);
      assert.equal(view.request.protocol, 'openid4vp-v1-unsigned');
      const { data } = view.request;
      assert.equal(data.response_type, 'vp_token');
      assert.equal(data.response_mode, 'dc_api');
      assert.match(data.nonce, /^[A-Za-z0-9_-]{43}$/);
      assert.equal('client_id' in data, false, 'unsigned DC API requests carry no client_id');
      const [q] = data.dcql_query.credentials;
      assert.deepEqual({ id: q!.id, format: q!.format, meta: q!.meta }, { id: 'mdl', format: 'mso_mdoc', meta: { doctype_value: 'org.iso.18013.5.1.mDL' } });
      assert.deepEqual(
        q!.claims.map((c) => c.path[1]),
        ['family_name', 'given_name', 'birth_date', 'document_number', 'issuing_authority'],
      );
      assert.ok(q!.claims.every((c) => c.path[0] === 'org.iso.18013.5.1' && c.intent_to_retain === false));
      const { rows } = await gw.services.db.query('SELECT purpose, organization, client_id FROM identity_request WHERE id = $1', [view.id]);
      assert.deepEqual(rows[0], { purpose: 'checkin', organization: 'Clinic A', client_id: 'kiosk-a' });
    });

    test('a valid presentation checks in; Provenance names the mDL, its issuing authority and IAL/AAL; the document number is not stored', async () => {
      const view = await newRequest();
      const r = await checkIn(identityPresentation(view.id, await present(alice, view.request, ORIGIN)));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const prov = provenanceOf(r.body as Bundle);
      const who = prov.agent[0]!.who!;
      assert.match(String(who.display), /ISO 18013-5 mDL/);
      assert.match(who.identifier!.system!, /^urn:ktc-gateway:mdl-iaca:/);
      assert.match(who.identifier!.value!, /^[A-Za-z0-9_-]{43}$/);
      const ext = prov.agent[0]!.extension![0]!.extension as Extension[];
      const val = (url: string) => ext.find((e) => e.url === url);
      assert.equal(val('credential')!.valueString, 'ISO 18013-5 mDL');
      assert.equal(val('issuingAuthority')!.valueString, 'Test State DMV');
      assert.equal(val('ial')!.valueInteger, 2);
      assert.equal(val('aal')!.valueInteger, 2);
      for (const table of ['checkin', 'fhir_resource', 'audit_event', 'identity_request', 'checkin_session']) {
        const { rows } = await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} t WHERE t::text LIKE '%D1234567%'`);
        assert.equal(rows[0]!.n, 0, `no document number in ${table}`);
      }
    });

    test('refused with 4xx and nothing stored: replay, another nonce, another origin, untrusted IACA, expired mDL, tampered element', async () => {
      const used = await newRequest();
      const presented = identityPresentation(used.id, await present(alice, used.request, ORIGIN));
      assert.equal((await checkIn(presented)).status, 201);
      await refusedWith(409, presented);

      // Two copies of one presentation at once: exactly one gets through.
      const raced = await newRequest();
      const copy = identityPresentation(raced.id, await present(alice, raced.request, ORIGIN));
      const statuses = (await Promise.all([checkIn(copy), checkIn(copy)])).map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 409]);

      const a = await newRequest();
      const b = await newRequest();
      await refusedWith(401, identityPresentation(a.id, await present(alice, b.request, ORIGIN)));
      const c = await newRequest();
      await refusedWith(401, identityPresentation(c.id, await present(alice, c.request, 'https://evil.example')));

      const stranger = await makeIaca('Untrusted DMV');
      const forged = await issueMdl(stranger, ALICE, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + DAY) });
      const d = await newRequest();
      await refusedWith(401, identityPresentation(d.id, await present(forged, d.request, ORIGIN)));

      const expired = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - 10 * DAY), until: new Date(clock.now() - DAY) });
      const e = await newRequest();
      await refusedWith(401, identityPresentation(e.id, await present(expired, e.request, ORIGIN)));

      const f = await newRequest();
      const tampered = tamper(await present(alice, f.request, ORIGIN), 'birth_date', '1999-01-01');
      await refusedWith(401, identityPresentation(f.id, tampered));
      // The refusals above did not use their requests up: the patient can try again.
      assert.equal((await checkIn(identityPresentation(f.id, await present(alice, f.request, ORIGIN)))).status, 201);
    });

    test("another person's mDL is 422 and stores nothing; the request is gone", async () => {
      const bob = await issueMdl(iaca, BOB, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + DAY) });
      const view = await newRequest();
      const r = await refusedWith(422, identityPresentation(view.id, await present(bob, view.request, ORIGIN)));
      assert.match(JSON.stringify(r.body), /does not match the verified identity/);
      assert.equal(JSON.stringify(r.body).includes('Okafor'), false, 'no compared values in the outcome');
    });

    test("expired, unknown or other kiosks' requests, and malformed presentations, are refused", async () => {
      const late = await newRequest();
      const bytes = await present(alice, late.request, ORIGIN);
      clock.advance(301_000);
      await refusedWith(410, identityPresentation(late.id, bytes));
      const mine = await newRequest();
      const other = await request(gw.app)
        .post('/checkin')
        .auth(kioskB, { type: 'bearer' })
        .send({ identityPresentation: identityPresentation(mine.id, await present(alice, mine.request, ORIGIN)), bundle: alicesBundle() });
      assert.equal(other.status, 404);
      await refusedWith(404, identityPresentation('A'.repeat(43), bytes));
      await refusedWith(400, { ...identityPresentation(mine.id, bytes), protocol: 'openid4vp-v1-signed' });
      await refusedWith(400, { requestId: mine.id, protocol: 'openid4vp-v1-unsigned', data: { vp_token: { other: ['AAAA'] } } });
      await refusedWith(400, { requestId: mine.id, protocol: 'openid4vp-v1-unsigned', data: { vp_token: { mdl: ['not base64url!'] } } });
      const both = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: 'x.y.z', identityPresentation: identityPresentation(mine.id, bytes), bundle: alicesBundle() });
      assert.equal(both.status, 400);
    });

    test('the session flow: the kiosk page verifies the mDL, the wallet sends the data to the session', async () => {
      const opened = await request(gw.app).post('/checkin/sessions').auth(kioskA, { type: 'bearer' });
      assert.equal(opened.status, 201);
      const { id, identityRequest } = opened.body as { id: string; identityRequest: IdentityRequestView };
      assert.equal(identityRequest.request.protocol, 'openid4vp-v1-unsigned');
      const presented = identityPresentation(identityRequest.id, await present(alice, identityRequest.request, ORIGIN));
      const other = await request(gw.app).post(`/checkin/sessions/${id}/identity`).auth(kioskB, { type: 'bearer' }).send({ identityPresentation: presented });
      assert.equal(other.status, 404, 'another kiosk cannot touch this session');
      const verified = await request(gw.app).post(`/checkin/sessions/${id}/identity`).auth(kioskA, { type: 'bearer' }).send({ identityPresentation: presented });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.equal(verified.body.identityVerified, true);
      const submitted = await request(gw.app).post(`/checkin/sessions/${id}/submit`).send({ bundle: alicesBundle() });
      assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
      assert.match(String(provenanceOf(submitted.body as Bundle).agent[0]!.who!.display), /ISO 18013-5 mDL/);
      const { rows } = await gw.services.db.query<{ identity: unknown }>('SELECT identity FROM checkin_session WHERE id = $1', [id]);
      assert.equal(rows[0]!.identity, null, 'the verified identity is cleared once used');

      // Or the wallet presents the mDL with its submission, answering the session's request.
      const second = (await request(gw.app).post('/checkin/sessions').auth(kioskA, { type: 'bearer' })).body as { id: string; identityRequest: IdentityRequestView };
      const unauthenticated = await request(gw.app).post(`/checkin/sessions/${second.id}/submit`).send({ bundle: alicesBundle() });
      assert.equal(unauthenticated.status, 401);
      const direct = await request(gw.app)
        .post(`/checkin/sessions/${second.id}/submit`)
        .send({ bundle: alicesBundle(), identityPresentation: identityPresentation(second.identityRequest.id, await present(alice, second.identityRequest.request, ORIGIN)) });
      assert.equal(direct.status, 201, JSON.stringify(direct.body));
    });

    test('a patient checked in by mDL reads the check-in by presenting the mDL again for a short-lived patient token', async () => {
      const view = await newRequest();
      const checkin = await checkIn(identityPresentation(view.id, await present(alice, view.request, ORIGIN)));
      assert.equal(checkin.status, 201);
      const id = (checkin.body as Bundle).id;

      const patientToken = async (mdl: TestMdl) => {
        const req = await request(gw.app).post('/identity-requests');
        assert.equal(req.status, 201);
        const r = await request(gw.app)
          .post('/auth/patient-token')
          .send({ identityPresentation: identityPresentation(req.body.id, await present(mdl, req.body.request, ORIGIN)) });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.token_type, 'bearer');
        assert.ok(r.body.expires_in <= 900);
        return r.body.access_token as string;
      };
      const token = await patientToken(alice);
      const read = await request(gw.app).get(`/checkin/${id}`).auth(token, { type: 'bearer' });
      assert.equal(read.status, 200);
      assert.equal((read.body as Bundle).id, id);

      const bob = await issueMdl(iaca, BOB, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + DAY) });
      const bobs = await request(gw.app)
        .get(`/checkin/${id}`)
        .auth(await patientToken(bob), { type: 'bearer' });
      assert.equal(bobs.status, 404, 'another licence holder sees nothing');
      const asKiosk = await request(gw.app).post('/checkin/sessions').auth(token, { type: 'bearer' });
      assert.equal(asKiosk.status, 401, 'a patient token is not a client token');
      // A kiosk's check-in request cannot be spent on a patient token, nor the other way round.
      const kioskRequest = await newRequest();
      const crossed = await request(gw.app)
        .post('/auth/patient-token')
        .send({ identityPresentation: identityPresentation(kioskRequest.id, await present(alice, kioskRequest.request, ORIGIN)) });
      assert.equal(crossed.status, 404);
      clock.advance(960_000);
      assert.equal((await request(gw.app).get(`/checkin/${id}`).auth(token, { type: 'bearer' })).status, 401, 'the patient token expires');
    });

    test('discovery: CapabilityStatement rest.security and smart-configuration advertise mDL over OpenID4VP', async () => {
      const cs = (await request(gw.app).get('/fhir/metadata')).body as CapabilityStatement;
      const services = cs.rest![0]!.security!.service!;
      assert.ok(services.some((s) => s.coding?.[0]?.code === 'mdl-openid4vp' && /ISO 18013-5/.test(s.text ?? '')));
      const smart = (await request(gw.app).get('/.well-known/smart-configuration')).body as { mdl_identity: Record<string, unknown> };
      assert.deepEqual(smart.mdl_identity.protocols, ['openid4vp-v1-unsigned']);
      assert.equal(smart.mdl_identity.kiosk_request_endpoint, `${ORIGIN}/checkin/identity-requests`);
      assert.equal(smart.mdl_identity.patient_token_endpoint, `${ORIGIN}/auth/patient-token`);
    });
  });

  describe(`encrypted answers, response_mode dc_api.jwt (${tdb.name})`, () => {
    let gw: TestGateway;
    let alice: TestMdl;
    let kiosk: string;
    before(async () => {
      const iaca = await makeIaca();
      alice = await issueMdl(iaca, ALICE, { from: new Date(Date.now() - DAY), until: new Date(Date.now() + DAY) });
      gw = await startTestGateway({ db: await tdb.open(), trust: { mdl: { trustAnchors: [iaca.pem], ial: 2, aal: 2, encryptResponses: true } } });
      kiosk = await gw.clientToken(KIOSK_A);
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });
    const newRequest = async () => (await request(gw.app).post('/checkin/identity-requests').auth(kiosk, { type: 'bearer' })).body as IdentityRequestView;
    const checkIn = (identity: unknown) => request(gw.app).post('/checkin').auth(kiosk, { type: 'bearer' }).send({ identityPresentation: identity, bundle: alicesBundle() });

    test('the request carries an ephemeral ECDH-ES key; a JWE answer bound to its thumbprint checks in; plaintext or another key is refused', async () => {
      const view = await newRequest();
      assert.equal(view.request.data.response_mode, 'dc_api.jwt');
      const [key] = view.request.data.client_metadata!.jwks.keys;
      assert.deepEqual([key!.kty, key!.crv, key!.alg, key!.use, 'd' in key!], ['EC', 'P-256', 'ECDH-ES', 'enc', false]);
      assert.deepEqual(view.request.data.client_metadata!.encrypted_response_enc_values_supported, ['A128GCM', 'A256GCM']);

      const plain = await checkIn(identityPresentation(view.id, await present(alice, view.request, ORIGIN)));
      assert.equal(plain.status, 400, 'an unencrypted answer to an encrypted request');
      const other = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const wrongKey = await checkIn(await presentEncrypted(alice, view.id, view.request, ORIGIN, { ...(await exportJWK(other.publicKey)), kid: 'x' }));
      assert.equal(wrongKey.status, 401);
      // Encrypted to the right key but signed over the unencrypted transcript (no thumbprint): refused.
      const noThumb = await present(alice, view.request, ORIGIN);
      const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ vp_token: { mdl: [Buffer.from(noThumb).toString('base64url')] } })))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A128GCM' })
        .encrypt(await importJWK(key as JWK, 'ECDH-ES'));
      assert.equal((await checkIn({ requestId: view.id, protocol: 'openid4vp-v1-unsigned', data: { response: jwe } })).status, 401);

      const ok = await checkIn(await presentEncrypted(alice, view.id, view.request, ORIGIN));
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const { rows } = await gw.services.db.query<{ response_key: string }>('SELECT response_key FROM identity_request WHERE id = $1', [view.id]);
      assert.match(rows[0]!.response_key, /"d":/, 'the private half stays with the request (sealed when KEY_ENCRYPTION_KEY is set)');
    });
  });

  describe(`mDL assurance policy (${tdb.name})`, () => {
    let gw: TestGateway;
    let iaca: TestIaca;
    before(async () => {
      iaca = await makeIaca();
      gw = await startTestGateway({ db: await tdb.open(), trust: { mdl: { trustAnchors: [{ certificate: iaca.pem, aal: 1 }], ial: 2, aal: 2 } } });
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });

    test('an IACA configured below AAL2 gives 403, and a gateway without mDL config neither offers nor accepts mDLs', async () => {
      const kiosk = await gw.clientToken(KIOSK_A);
      const view = (await request(gw.app).post('/checkin/identity-requests').auth(kiosk, { type: 'bearer' })).body as IdentityRequestView;
      const mdl = await issueMdl(iaca, ALICE, { from: new Date(Date.now() - DAY), until: new Date(Date.now() + DAY) });
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityPresentation: identityPresentation(view.id, await present(mdl, view.request, ORIGIN)), bundle: alicesBundle() });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.match(JSON.stringify(r.body), /AAL2/);

      const plain = await startTestGateway({ db: await tdb.open() });
      const plainKiosk = await plain.clientToken(KIOSK_A);
      assert.equal((await request(plain.app).post('/checkin/identity-requests').auth(plainKiosk, { type: 'bearer' })).status, 404);
      const session = await request(plain.app).post('/checkin/sessions').auth(plainKiosk, { type: 'bearer' });
      assert.equal('identityRequest' in session.body, false);
      const refused = await request(plain.app)
        .post('/checkin')
        .auth(plainKiosk, { type: 'bearer' })
        .send({ identityPresentation: identityPresentation(view.id, Buffer.from('x')), bundle: alicesBundle() });
      assert.equal(refused.status, 400);
      const smart = (await request(plain.app).get('/.well-known/smart-configuration')).body as Record<string, unknown>;
      assert.equal('mdl_identity' in smart, false);
      await plain.close();
    });
  });
}
