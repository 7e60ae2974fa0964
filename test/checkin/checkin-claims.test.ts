import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { OFFICIAL } from '../../src/fhir/profile-urls.js';
import { VECTORS, clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { testDatabases } from '../helpers/db.js';

const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };

for (const tdb of testDatabases()) {
  describe(`check-in keeps what resources claim (${tdb.name})`, () => {
    let idp: Idp;
    let gw: TestGateway;
    let clock: ManualClock;
    let kiosk: string;

    before(async () => {
      idp = await startIdp();
      clock = new ManualClock(Date.now());
      gw = await startTestGateway({ db: await tdb.open(), clock, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
      kiosk = await gw.clientToken(KIOSK);
    });
    after(async () => {
      await gw.close();
      await idp.close();
      await tdb.cleanup();
    });

    const checkin = async (bundle: Bundle, who: Record<string, unknown> = patientClaims()) =>
      request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'patient-1', ...who }, { now: clock.now() }), bundle });

    test('a published IPS document (HL7 IPS bundle-minimal) checks in as a plain Bundle, every entry stored', async () => {
      const bundle = JSON.parse(readFileSync(path.join(VECTORS, 'corpus', 'ips', 'bundle-minimal.json'), 'utf8')) as Bundle;
      const r = await checkin(bundle, { ...patientClaims({ given: 'Martha', family: 'DeLarosa', birthDate: '1972-05-01' }), sub: 'patient-ips' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const types = (r.body as Bundle).entry!.map((e) => e.resource!.resourceType);
      for (const t of ['Composition', 'Patient', 'Practitioner', 'Organization', 'Condition', 'MedicationStatement', 'Medication', 'AllergyIntolerance'])
        assert.ok(types.includes(t as never), t);
    });

    test('meta.profile survives the round trip; unknown claims and dropped entries come back as warnings', async () => {
      const bundle = clipboardBundle();
      bundle.entry![0]!.resource!.meta = { profile: [`${OFFICIAL.usCorePatient}|6.1.0`], versionId: '7', lastUpdated: '2020-01-01T00:00:00Z' };
      const subject = { reference: bundle.entry![0]!.fullUrl! };
      const n = bundle.entry!.length;
      bundle.entry!.push(
        { resource: { resourceType: 'Flag', meta: { profile: ['http://example.org/fhir/StructureDefinition/alert'] }, status: 'active', code: { text: 'Fall risk' }, subject } },
        { resource: { resourceType: 'Bundle', type: 'collection' } },
      );
      const r = await checkin(bundle);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const read = await request(gw.app).get(`/checkin/${r.body.id}`).auth(kiosk, { type: 'bearer' });
      assert.equal(read.status, 200);
      const stored = read.body as Bundle;
      const patient = stored.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource!;
      assert.deepEqual(patient.meta?.profile, [`${OFFICIAL.usCorePatient}|6.1.0`]);
      assert.notEqual(patient.meta?.versionId, '7', "the sender's version is not kept");
      assert.notEqual(patient.meta?.lastUpdated, '2020-01-01T00:00:00Z');
      const flag = stored.entry!.find((e) => e.resource?.resourceType === 'Flag')!.resource!;
      assert.match(String((flag as { subject?: { reference?: string } }).subject?.reference), /^Patient\//);
      assert.equal(stored.entry!.filter((e) => e.resource?.resourceType === 'Bundle').length, 0);
      const outcome = stored.entry!.at(-1)!.resource as OperationOutcome;
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.deepEqual(
        outcome.issue.map((i) => [i.severity, i.expression?.[0]]),
        [
          ['warning', `Bundle.entry[${n}].resource.meta.profile`],
          ['warning', `Bundle.entry[${n + 1}].resource`],
        ],
      );
      const provenance = stored.entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource as { target: unknown[] };
      assert.equal(provenance.target.length, stored.entry!.length - 2, 'every stored resource but the Provenance itself; the OperationOutcome is not stored');
    });

    test('<script> in a narrative is refused with txt-1, and nothing is stored', async () => {
      const bundle = clipboardBundle();
      bundle.entry![0]!.resource = {
        ...bundle.entry![0]!.resource!,
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x<script>fetch("/")</script></div>' },
      } as never;
      const r = await checkin(bundle);
      assert.equal(r.status, 422);
      assert.deepEqual(
        r.body.issue.map((i: { expression: string[] }) => i.expression[0]),
        ['Bundle.entry[0].resource.text.div'],
      );
      assert.match(r.body.issue[0].diagnostics, /txt-1/);
    });
  });
}
