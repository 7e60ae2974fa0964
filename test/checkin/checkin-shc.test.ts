import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Provenance } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { testDatabases } from '../helpers/db.js';
import { readVector, SHC_EXAMPLE_ISSUER, SHC_EXAMPLE_TIME, SHC_VECTORS, shcExampleIssuer } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';

const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const numericQr = readVector(SHC_VECTORS, 'example-00-f-qr-code-numeric-value-0.txt').trim();
const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();
const file = JSON.parse(readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card')) as { verifiableCredential: string[] };

function flipSignatureByte(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  sig[10] = (sig[10] ?? 0) ^ 0xff;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

for (const tdb of testDatabases()) {
  describe(`check-in with SMART Health Cards (${tdb.name})`, () => {
    let idp: Idp;
    let gw: TestGateway;
    let kiosk: string;
    const clock = new ManualClock(SHC_EXAMPLE_TIME);

    before(async () => {
      idp = await startIdp();
      gw = await startTestGateway({
        db: await tdb.open(),
        clock,
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
      await idp.close();
      await tdb.cleanup();
    });

    const idToken = () => idp.token({ sub: 'john', ...patientClaims() }, { now: clock.now() });
    const checkin = async (shc: unknown) =>
      request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idToken(), shc });

    for (const [form, payload] of [
      ['numeric QR', [numericQr]],
      ['.smart-health-card file', file],
      ['bare JWS', jws],
    ] as const) {
      test(`the spec example card as a ${form} checks in John B. Anyperson, verified`, async () => {
        const r = await checkin(payload);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const bundle = r.body as Bundle;
        const types = bundle.entry!.map((e) => e.resource!.resourceType);
        assert.equal(types.filter((t) => t === 'Immunization').length, 3);
        const patient = bundle.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as { birthDate: string; gender?: string; id: string };
        assert.equal(patient.birthDate, '1951-01-20');
        assert.equal(patient.gender, undefined, 'a minimal card Patient passes (validated against the card profile, not US Core)');
        const immunization = bundle.entry!.find((e) => e.resource!.resourceType === 'Immunization')!.resource as { patient: { reference: string } };
        assert.equal(immunization.patient.reference, `Patient/${patient.id}`, 'resource:0 references rewritten');
        const prov = bundle.entry!.find((e) => e.resource!.resourceType === 'Provenance')!.resource as Provenance;
        assert.equal(prov.entity![0]!.what.identifier!.value, SHC_EXAMPLE_ISSUER);
        assert.equal(prov.entity![0]!.extension![0]!.valueBoolean, true);
      });
    }

    const refusals: [string, unknown, number][] = [
      ['a flipped signature byte', [flipSignatureByte(jws)], 422],
      ['a QR with an odd digit count', [`${numericQr}1`], 400],
      ['a QR digit pair above 77', [`shc:/99${numericQr.slice(7)}`], 400],
    ];
    for (const [what, payload, status] of refusals) {
      test(`${what} is refused (${status}) and nothing is stored`, async () => {
        const before = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM checkin');
        const r = await checkin(payload);
        assert.ok(r.status === status || (status === 400 && r.status === 422), `got ${r.status}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
        const afterCount = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM checkin');
        assert.equal(afterCount.rows[0]!.n, before.rows[0]!.n);
      });
    }

    test("a forged card is refused by the signature check on its patient's check-in, and as someone else's before the check runs", async () => {
      const forged = [flipSignatureByte(jws)];
      const mine = await checkin(forged);
      assert.equal(mine.status, 422);
      assert.match(mine.body.issue[0].diagnostics, /signature does not verify/);
      const token = await idp.token({ sub: 'jane', ...patientClaims({ given: 'Jane', family: 'Anyperson' }) }, { now: clock.now() });
      const theirs = await request(gw.app).post('/checkin').auth(kiosk, { type: 'bearer' }).send({ identityToken: token, shc: forged });
      assert.equal(theirs.status, 422);
      assert.match(theirs.body.issue[0].diagnostics, /does not match the verified identity/);
    });

    test('a card whose Patient is someone else is refused (422)', async () => {
      const token = await idp.token({ sub: 'jane', ...patientClaims({ given: 'Jane', family: 'Anyperson' }) }, { now: clock.now() });
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: token, shc: [numericQr] });
      assert.equal(r.status, 422);
    });
  });
}
