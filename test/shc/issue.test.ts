import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { httpAnswer } from '../helpers/http-answer.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { cardsFromInput } from '../../src/shc/card-input.js';
import { issueCard } from '../../src/shc/issue.js';
import { minifyBundle } from '../../src/shc/minify.js';
import { jwsToNumeric, parseQrText, SINGLE_QR_MAX_JWS } from '../../src/shc/numeric-qr.js';
import { renderCardQr } from '../../src/shc/render-qr.js';
import { createShcVerifier } from '../../src/shc/verify.js';
import { testDatabases } from '../helpers/db.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const NOW = Date.UTC(2025, 2, 1, 9);

function summaryBundle(immunizations = 1): Bundle {
  return {
    resourceType: 'Bundle',
    id: 'b1',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:7f0d4b7e-0000-4000-8000-000000000001',
        resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Anyperson', given: ['John', 'B.'] }], birthDate: '1951-01-20' },
      },
      ...Array.from(
        { length: immunizations },
        (_, i): BundleEntry => ({
          fullUrl: `urn:uuid:7f0d4b7e-0000-4000-8000-1000000000${String(i).padStart(2, '0')}`,
          resource: {
            resourceType: 'Immunization',
            id: `i${i}`,
            status: 'completed',
            vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '208', display: 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose' }] },
            patient: { reference: 'urn:uuid:7f0d4b7e-0000-4000-8000-000000000001' },
            occurrenceDateTime: `2024-0${(i % 9) + 1}-1${i % 10}`,
            // Random lot numbers keep large cards from compressing below one QR.
            lotNumber: randomBytes(12).toString('hex'),
            performer: [{ actor: { display: `Example Clinic ${i}` } }],
          },
        }),
      ),
    ],
  };
}

/** Balanced chunks of at most 1191 characters, as the spec tells producers (deprecated, still accepted). */
function chunkedQrs(jws: string): string[] {
  const n = Math.ceil(jws.length / 1191);
  const size = Math.ceil(jws.length / n);
  return Array.from({ length: n }, (_, i) => `shc:/${i + 1}/${n}/${jwsToNumeric(jws.slice(i * size, (i + 1) * size))}`);
}

async function status(p: () => unknown): Promise<number> {
  try {
    await p();
  } catch (e) {
    const answer = httpAnswer(e);
    if (answer) return answer.status;
    throw e;
  }
  return 200;
}

for (const tdb of testDatabases()) {
  describe(`SHC issued with the gateway key (${tdb.name})`, () => {
    let gw: TestGateway;
    const clock = new ManualClock(NOW);
    // The gateway serves its own /.well-known/jwks.json on loopback; its public base URL is the card's iss.
    const verifier = () =>
      createShcVerifier({
        trust: { shcIssuers: [{ iss: gw.baseUrl, fetchJwks: true, name: 'this gateway' }], acceptUnknownShcIssuers: false },
        fetch: createGuardedFetch({ allowlist: ['127.0.0.1'] }),
        clock,
      });
    const issue = (bundle: Bundle) => issueCard(bundle, { key: gw.services.keys.signingKey(), publicBaseUrl: gw.services.config.publicBaseUrl, clock });

    before(async () => {
      gw = await startTestGateway({ db: await tdb.open(), clock, listen: true });
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });

    test('issue → verify round trip against the gateway JWKS served on loopback', async () => {
      const bundle = summaryBundle();
      const issued = await issue(bundle);
      assert.deepEqual(decodeProtectedHeader(issued.jws), { zip: 'DEF', alg: 'ES256', kid: gw.services.keys.signingKey().kid });
      assert.deepEqual(issued.file, { verifiableCredential: [issued.jws] });
      const card = await verifier().verify(issued.jws);
      assert.equal(card.verified, true);
      assert.equal(card.issuer, gw.baseUrl);
      assert.equal(card.issuerName, 'this gateway');
      assert.equal(card.nbf, NOW / 1000);
      assert.deepEqual(card.payload.vc.type, ['https://smarthealth.cards#health-card']);
      assert.equal(card.payload.vc.credentialSubject.fhirVersion, '4.0.1');
      assert.deepEqual(card.bundle, minifyBundle(bundle));
      const payload = inflateRawSync(Buffer.from(issued.jws.split('.')[1]!, 'base64url')).toString('utf8');
      assert.equal(payload, JSON.stringify(JSON.parse(payload)), 'the payload is minified JSON');
    });

    test('a card that fits one QR gets its numeric text, which decodes back to the same JWS and draws as a QR', async () => {
      const issued = await issue(summaryBundle());
      assert.equal(issued.fitsSingleQr, true);
      assert.ok(issued.jws.length <= SINGLE_QR_MAX_JWS);
      assert.deepEqual(parseQrText(issued.qrNumeric!), { kind: 'whole', jws: issued.jws });
      assert.equal((await verifier().verifyInput([issued.qrNumeric!]))[0]!.jws, issued.jws);
      const { svg, png } = await renderCardQr(issued.qrNumeric!);
      assert.match(svg, /^<svg /);
      assert.match(png, /^data:image\/png;base64,/);
    });

    test('a card too big for one QR says so and gets no numeric text; its chunks reassemble in any order', async () => {
      const issued = await issue(summaryBundle(40));
      assert.equal(issued.fitsSingleQr, false);
      assert.equal(issued.qrNumeric, undefined);
      const chunks = chunkedQrs(issued.jws);
      assert.ok(chunks.length >= 2);
      const shuffled = [...chunks.slice(1), chunks[0]!].reverse();
      assert.deepEqual(cardsFromInput(shuffled), [issued.jws]);
      assert.equal((await verifier().verifyInput(shuffled))[0]!.verified, true);
      await renderCardQr(chunks[0]!);

      assert.equal(await status(() => cardsFromInput(chunks.slice(1))), 400, 'a missing chunk');
      assert.equal(await status(() => cardsFromInput([...chunks, chunks[0]!])), 400, 'a chunk twice');
      const wrongTotal = chunks[0]!.replace(/^shc:\/1\/\d+\//, `shc:/1/${chunks.length + 1}/`);
      assert.equal(await status(() => cardsFromInput([wrongTotal, ...chunks.slice(1)])), 400, 'chunks disagreeing on n');
    });

    test('after key rotation, cards signed with the old key still verify and new cards use the new kid', async () => {
      const old = await issue(summaryBundle());
      await gw.services.keys.rotate();
      const fresh = await issue(summaryBundle());
      assert.notEqual(decodeProtectedHeader(fresh.jws).kid, decodeProtectedHeader(old.jws).kid);
      const v = verifier();
      assert.equal((await v.verify(old.jws)).verified, true);
      assert.equal((await v.verify(fresh.jws)).verified, true);
    });
  });
}

describe('SHC minification (spec §3)', () => {
  const base = 'http://ehr.example/fhir';
  const input: Bundle = {
    resourceType: 'Bundle',
    id: 'visit-1',
    meta: { lastUpdated: '2025-03-01T09:00:00Z' },
    type: 'collection',
    entry: [
      {
        fullUrl: `${base}/Patient/p1`,
        resource: {
          resourceType: 'Patient',
          id: 'p1',
          meta: { versionId: '3', profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] },
          text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">John</div>' },
          name: [{ family: 'Anyperson', given: ['John'], text: 'John Anyperson' }],
        },
      },
      {
        fullUrl: 'urn:uuid:0b8a3b1e-5d2f-4f7e-9f0a-000000000002',
        resource: {
          resourceType: 'Encounter',
          id: 'e1',
          meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N', display: 'normal' }], profile: ['x'] },
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
          subject: { reference: 'Patient/p1', display: 'John Anyperson' },
        },
      },
      {
        fullUrl: `${base}/Condition/c1`,
        resource: {
          resourceType: 'Condition',
          id: 'c1',
          code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }], text: 'Type 2 diabetes' },
          subject: { reference: 'Patient/p1' },
          encounter: { reference: 'urn:uuid:0b8a3b1e-5d2f-4f7e-9f0a-000000000002' },
          asserter: { reference: 'Practitioner/elsewhere' },
          note: [{ text: 'Annotation text stays' }],
        },
      },
      {
        fullUrl: 'urn:uuid:0b8a3b1e-5d2f-4f7e-9f0a-000000000004',
        resource: {
          resourceType: 'Observation',
          id: 'o1',
          contained: [{ resourceType: 'Practitioner', id: 'pr1', meta: { profile: ['y'] }, name: [{ family: 'Careful' }] }],
          status: 'final',
          code: { text: 'Only text: kept, or the concept would be empty' },
          subject: { reference: `${base}/Patient/p1/_history/3` },
          performer: [{ reference: '#pr1' }],
          valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260385009', display: 'Negative' }], text: 'Negative' },
        },
      },
      { request: { method: 'DELETE', url: 'Patient/gone' } } as BundleEntry,
    ],
  };

  test('drops ids, meta (but meta.security), narrative, CodeableConcept.text and Coding.display; rewrites references to resource:N', () => {
    const expected: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'resource:0', resource: { resourceType: 'Patient', name: [{ family: 'Anyperson', given: ['John'], text: 'John Anyperson' }] } },
        {
          fullUrl: 'resource:1',
          resource: {
            resourceType: 'Encounter',
            meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: 'resource:0', display: 'John Anyperson' },
          },
        },
        {
          fullUrl: 'resource:2',
          resource: {
            resourceType: 'Condition',
            code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] },
            subject: { reference: 'resource:0' },
            encounter: { reference: 'resource:1' },
            asserter: { reference: 'Practitioner/elsewhere' },
            note: [{ text: 'Annotation text stays' }],
          },
        },
        {
          fullUrl: 'resource:3',
          resource: {
            resourceType: 'Observation',
            contained: [{ resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Careful' }] }],
            status: 'final',
            code: { text: 'Only text: kept, or the concept would be empty' },
            subject: { reference: 'resource:0' },
            performer: [{ reference: '#pr1' }],
            valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260385009' }] },
          } as Resource,
        },
      ],
    };
    assert.deepEqual(minifyBundle(input), expected);
  });

  test('a relative reference from a RESTful entry resolves against that entry base only', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'https://a.example/fhir/Patient/1', resource: { resourceType: 'Patient', id: '1' } },
        { fullUrl: 'https://b.example/fhir/Patient/2', resource: { resourceType: 'Patient', id: '2' } },
        {
          fullUrl: 'https://a.example/fhir/Observation/9',
          resource: { resourceType: 'Observation', id: '9', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1' }, focus: [{ reference: 'Patient/2' }] },
        },
      ],
    };
    const obs = minifyBundle(bundle).entry![2]!.resource as { subject: { reference: string }; focus: { reference: string }[] };
    assert.equal(obs.subject.reference, 'resource:0');
    assert.equal(obs.focus[0]!.reference, 'Patient/2', 'https://a.example/fhir/Patient/2 is not in the Bundle');
  });

  test('the input Bundle is left untouched', () => {
    const copy = structuredClone(input);
    minifyBundle(input);
    assert.deepEqual(input, copy);
  });
});
