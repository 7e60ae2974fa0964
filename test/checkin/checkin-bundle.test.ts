import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Provenance } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { IAL1_ACR, patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { testDatabases } from '../helpers/db.js';

const KIOSK_A = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const KIOSK_B = { clientId: 'kiosk-b', organization: 'Clinic B', scopes: ['system/checkin.write', 'system/checkin.read'] };

async function countStored(gw: TestGateway): Promise<number> {
  const a = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource');
  const b = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM checkin');
  return (a.rows[0]?.n ?? 0) + (b.rows[0]?.n ?? 0);
}

for (const tdb of testDatabases()) {
  describe(`check-in with a FHIR Bundle (${tdb.name})`, () => {
    let idp: Idp;
    let gw: TestGateway;
    let clock: ManualClock;
    let kioskA: string;
    let kioskB: string;

    before(async () => {
      idp = await startIdp();
      clock = new ManualClock(Date.now());
      gw = await startTestGateway({
        db: await tdb.open(),
        clock,
        trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] },
      });
      kioskA = await gw.clientToken(KIOSK_A);
      kioskB = await gw.clientToken(KIOSK_B);
    });
    after(async () => {
      await gw.close();
      await idp.close();
      await tdb.cleanup();
    });

    const patientToken = (claims: Record<string, unknown> = {}) => idp.token({ sub: 'patient-1', ...patientClaims(), ...claims }, { now: clock.now() });

    test('kiosk scans the wallet: stores Patient, insurance card, history and Provenance, bound to the identity', async () => {
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken(), bundle: clipboardBundle() });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const bundle = r.body as Bundle;
      assert.equal(bundle.type, 'collection');
      assert.match(String(r.headers.location), new RegExp(`/checkin/${bundle.id}$`));
      const types = bundle.entry!.map((e) => e.resource!.resourceType).sort();
      assert.deepEqual(types, ['AllergyIntolerance', 'Condition', 'Coverage', 'Encounter', 'Immunization', 'MedicationStatement', 'Patient', 'Provenance']);
      const patient = bundle.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!;
      const coverage = bundle.entry!.find((e) => e.resource!.resourceType === 'Coverage')!.resource as { beneficiary: { reference: string } };
      assert.equal(coverage.beneficiary.reference, `Patient/${patient.id}`, 'references rewritten to gateway ids');
      const prov = bundle.entry!.find((e) => e.resource!.resourceType === 'Provenance')!.resource as Provenance;
      assert.equal(prov.agent[0]!.who!.identifier!.system, idp.issuer);
      assert.equal(prov.agent[0]!.who!.identifier!.value, 'patient-1');
      const assurance = prov.agent[0]!.extension![0]!.extension!;
      assert.equal(assurance.find((e) => e.url === 'ial')!.valueInteger, 2);
      assert.equal(assurance.find((e) => e.url === 'aal')!.valueInteger, 2);
      assert.equal(prov.entity![0]!.extension![0]!.valueBoolean, false, 'a plain Bundle is not a verified source');
      for (const e of bundle.entry!) gw.services.fhir.validate(e.resource!);

      const again = await request(gw.app).get(`/checkin/${bundle.id}`).auth(kioskA, { type: 'bearer' });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, bundle);
      const other = await request(gw.app).get(`/checkin/${bundle.id}`).auth(kioskB, { type: 'bearer' });
      assert.equal(other.status, 404, 'another organization sees nothing');
      const self = await request(gw.app)
        .get(`/checkin/${bundle.id}`)
        .auth(await patientToken(), { type: 'bearer' });
      assert.equal(self.status, 200);
      const stranger = await request(gw.app)
        .get(`/checkin/${bundle.id}`)
        .auth(await patientToken({ sub: 'patient-2' }), { type: 'bearer' });
      assert.equal(stranger.status, 404);
    });

    test('a second check-in of the same identity updates the same Patient', async () => {
      const first = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken({ sub: 'patient-repeat' }), bundle: clipboardBundle() });
      const second = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken({ sub: 'patient-repeat' }), bundle: clipboardBundle() });
      const pid = (b: Bundle) => b.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!;
      assert.equal(pid(first.body).id, pid(second.body).id);
      assert.equal(pid(second.body).meta?.versionId, '2');
    });

    test('identity mismatch stores nothing (422)', async () => {
      const before = await countStored(gw);
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken(patientClaims({ given: 'Jane', family: 'Doe' })), bundle: clipboardBundle() });
      assert.equal(r.status, 422);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.doesNotMatch(JSON.stringify(r.body), /Anyperson|Jane|Doe|1951/, 'no PHI echoed');
      assert.equal(await countStored(gw), before);
    });

    test('an IAL1 identity stores nothing (403)', async () => {
      const before = await countStored(gw);
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken({ acr: IAL1_ACR }), bundle: clipboardBundle() });
      assert.equal(r.status, 403);
      assert.equal(r.body.issue[0].code, 'security');
      assert.equal(await countStored(gw), before);
    });

    test('a Patient claiming US Core and missing a US Core required element is 422 with its location', async () => {
      const bundle = clipboardBundle();
      bundle.entry![0]!.resource!.meta = { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] };
      delete (bundle.entry![0]!.resource as { identifier?: unknown }).identifier;
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kioskA, { type: 'bearer' })
        .send({ identityToken: await patientToken(), bundle });
      assert.equal(r.status, 422);
      const expressions = r.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []);
      assert.ok(expressions.includes('Bundle.entry[0].resource.identifier'), JSON.stringify(r.body));
    });

    const badBodies: [string, unknown, number][] = [
      ['no payload', {}, 400],
      ['two payloads', { bundle: clipboardBundle(), shlink: 'shlink:/x' }, 400],
      ['a non-object body', [1, 2], 400],
      ['an unknown field', { bundle: clipboardBundle(), extra: 1 }, 400],
      ['a Bundle of the wrong type', { bundle: { ...clipboardBundle(), type: 'transaction' } }, 422],
      [
        'a resource type that is not FHIR R4',
        { bundle: { ...clipboardBundle(), entry: [...clipboardBundle().entry!, { resource: { resourceType: 'Basik', code: { text: 'x' } } }] } },
        422,
      ],
    ];
    for (const [what, body, status] of badBodies) {
      test(`${what} is ${status} with an OperationOutcome`, async () => {
        const withToken = typeof body === 'object' && !Array.isArray(body) ? { identityToken: await patientToken(), ...body } : body;
        const r = await request(gw.app)
          .post('/checkin')
          .auth(kioskA, { type: 'bearer' })
          .send(withToken as object);
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    }

    test('kiosk routes need the kiosk scope', async () => {
      const reader = await gw.clientToken({ ...KIOSK_A, scopes: ['system/checkin.read'] });
      const r = await request(gw.app).post('/checkin/sessions').auth(reader, { type: 'bearer' });
      assert.equal(r.status, 403);
      assert.equal((await request(gw.app).post('/checkin/sessions')).status, 401);
    });

    test('wallet scans the kiosk: session QR, single-use submit, status by polling and SSE', async () => {
      const opened = await request(gw.app).post('/checkin/sessions').auth(kioskA, { type: 'bearer' });
      assert.equal(opened.status, 201);
      const { id, url, qr, status } = opened.body;
      assert.equal(status, 'waiting');
      assert.equal(url, `${gw.baseUrl}/checkin/sessions/${id}/submit`);
      assert.match(qr.svg, /^<svg/);
      assert.match(qr.png, /^data:image\/png;base64,/);

      const otherKiosk = await request(gw.app).get(`/checkin/sessions/${id}`).auth(kioskB, { type: 'bearer' });
      assert.equal(otherKiosk.status, 404);

      const submitted = await request(gw.app)
        .post(`/checkin/sessions/${id}/submit`)
        .auth(await patientToken({ sub: 'patient-s' }), { type: 'bearer' })
        .send({ bundle: clipboardBundle() });
      assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
      const polled = await request(gw.app).get(`/checkin/sessions/${id}`).auth(kioskA, { type: 'bearer' });
      assert.equal(polled.body.status, 'completed');
      assert.equal(polled.body.checkinId, submitted.body.id);
      const kioskRead = await request(gw.app).get(`/checkin/${submitted.body.id}`).auth(kioskA, { type: 'bearer' });
      assert.equal(kioskRead.status, 200, 'the check-in belongs to the kiosk organization');

      const reused = await request(gw.app)
        .post(`/checkin/sessions/${id}/submit`)
        .auth(await patientToken({ sub: 'patient-s' }), { type: 'bearer' })
        .send({ bundle: clipboardBundle() });
      assert.equal(reused.status, 409);

      const sse = await request(gw.app).get(`/checkin/sessions/${id}`).set('Accept', 'text/event-stream').auth(kioskA, { type: 'bearer' });
      assert.match(String(sse.headers['content-type']), /text\/event-stream/);
      assert.match(sse.text, /event: status\ndata: .*"completed"/);
    });

    test('SSE pushes the completion to a waiting kiosk', async () => {
      const server = http.createServer(gw.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const opened = await request(gw.app).post('/checkin/sessions').auth(kioskA, { type: 'bearer' });
        const events: string[] = [];
        const streamDone = new Promise<void>((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${port}/checkin/sessions/${opened.body.id}`, { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${kioskA}` } }, (res) => {
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => events.push(chunk));
              res.on('end', resolve);
            })
            .on('error', reject);
        });
        await new Promise((r) => setTimeout(r, 200));
        await request(gw.app)
          .post(`/checkin/sessions/${opened.body.id}/submit`)
          .auth(await patientToken({ sub: 'patient-sse' }), { type: 'bearer' })
          .send({ bundle: clipboardBundle() });
        await streamDone;
        assert.match(events.join(''), /"waiting"[\s\S]*"completed"/);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    test('sessions expire', async () => {
      const opened = await request(gw.app).post('/checkin/sessions').auth(kioskA, { type: 'bearer' });
      clock.advance(11 * 60 * 1000);
      try {
        const r = await request(gw.app)
          .post(`/checkin/sessions/${opened.body.id}/submit`)
          .auth(await patientToken({ sub: 'patient-late' }), { type: 'bearer' })
          .send({ bundle: clipboardBundle() });
        assert.equal(r.status, 410);
        const polled = await request(gw.app)
          .get(`/checkin/sessions/${opened.body.id}`)
          .auth(await gw.clientToken(KIOSK_A), { type: 'bearer' });
        assert.equal(polled.body.status, 'expired');
      } finally {
        clock.advance(-11 * 60 * 1000);
      }
    });
  });
}
