import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Composition } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { createShcVerifier } from '../../src/shc/verify.js';
import { parseShlink } from '../../src/shl/link.js';
import { retrieveShl, type ShlFile } from '../../src/shl/receiver.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { startFakeAnthropic, type FakeAnthropic } from '../summaries/fake-anthropic.js';
import { MODEL, writeSummary } from './summary-model.js';

const EHR_A = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/visit.write', 'system/visit.read'] };
const EHR_B = { ...EHR_A, clientId: 'ehr-b', organization: 'Clinic B' };
const AIAST = 'AIAST';

type FhirFile = Extract<ShlFile, { contentType: 'application/fhir+json' }>;
const fhirFiles = (files: ShlFile[]) => files.filter((f): f is FhirFile => f.contentType === 'application/fhir+json');
const summaryOf = (files: ShlFile[]) => fhirFiles(files).find((f) => f.resource.resourceType === 'Composition')?.resource as Composition | undefined;

for (const tdb of testDatabases()) {
  describe(`plain-language summary inside the visit link (${tdb.name})`, () => {
    let idp: Idp;
    let fake: FakeAnthropic;
    let ai: TestGateway;
    let noKey: TestGateway;
    const clock = new ManualClock(Date.now());
    const allowlist = ['127.0.0.1'];
    const wallet = () => ({ fetch: createGuardedFetch({ allowlist }), clock });

    /** A check-in at the gateway, and an EHR token for it. */
    async function checkedIn(gw: TestGateway): Promise<{ ehr: string; checkinId: string; patientId: string }> {
      const ehr = await gw.clientToken(EHR_A);
      const identityToken = await idp.token({ sub: 'john', ...patientClaims() }, { now: clock.now() });
      const r = await request(gw.app).post('/checkin').auth(ehr, { type: 'bearer' }).send({ identityToken, bundle: clipboardBundle() });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { ehr, checkinId: r.body.id, patientId: (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id! };
    }

    const parameters = (bundle: Bundle, extra: object[] = []) => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'bundle', resource: bundle }, ...extra],
    });

    before(async () => {
      idp = await startIdp();
      fake = await startFakeAnthropic();
      const trust = { identityProviders: [idp.providerConfig()], outboundAllowlist: allowlist };
      ai = await startTestGateway({
        db: await tdb.open(),
        clock,
        listen: true,
        trust,
        env: { ANTHROPIC_API_KEY: 'sk-ant-test-visit-link', ANTHROPIC_BASE_URL: fake.baseUrl, ANTHROPIC_MODEL: MODEL, ANTHROPIC_TIMEOUT_MS: '5000' },
      });
      noKey = await startTestGateway({ db: await tdb.open(), clock, listen: true, trust });
    });
    after(async () => {
      await ai?.close();
      await noKey?.close();
      await fake?.close();
      await idp?.close();
      await tdb.cleanup();
    });

    test('without Claude: the labelled fallback is a second FHIR file, each sentence cites its record entry; the card is there and verifies', async () => {
      const { ehr, checkinId, patientId } = await checkedIn(noKey);
      const sent = visitSummaryBundle(patientId);
      const r = await request(noKey.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send(parameters(sent, [{ name: 'plainLanguageSummary', valueBoolean: true }]));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(
        { ...r.body.plainLanguageSummary, lastUpdated: undefined, label: undefined },
        {
          language: 'en',
          readingLevel: 'grade8',
          aiGenerated: false,
          lastUpdated: undefined,
          label: undefined,
        },
      );

      // A wallet that knows only the SHL spec: the manifest lists both FHIR files and the card.
      const got = await retrieveShl(parseShlink(r.body.shlink, { allowlist }), { recipient: 'wallet' }, wallet());
      assert.deepEqual(got.files.map((f) => f.contentType).sort(), ['application/fhir+json', 'application/fhir+json', 'application/smart-health-card']);
      assert.deepEqual(fhirFiles(got.files).find((f) => f.resource.resourceType === 'Bundle')!.resource, sent);
      const card = got.files.find((f) => f.contentType === 'application/smart-health-card');
      assert.ok(card && card.contentType === 'application/smart-health-card');
      const verifier = createShcVerifier({
        trust: { shcIssuers: [{ iss: noKey.baseUrl, fetchJwks: true }], acceptUnknownShcIssuers: false },
        fetch: createGuardedFetch({ allowlist }),
        clock,
      });
      const [verified] = await verifier.verifyInput({ verifiableCredential: card.verifiableCredential });
      assert.equal(verified!.verified, true, 'the card verifies against /.well-known/jwks.json');

      const summary = summaryOf(got.files)!;
      assert.deepEqual(noKey.services.fhir.check(summary), []);
      assert.equal(summary.meta?.security, undefined, 'not labelled AI-asserted');
      assert.match(summary.text!.div, /Not AI-generated/);
      const diagnoses = summary.section!.find((s) => s.title === 'Diagnoses')!;
      const condition = sent.entry!.find((e) => e.resource!.resourceType === 'Condition')!.fullUrl!;
      assert.deepEqual(
        diagnoses.section!.map((s) => s.entry?.map((e) => e.reference)),
        [[condition]],
        'the sentence cites the Condition of the record',
      );

      const audit = await noKey.services.db.query<{ subtype: string }>('SELECT subtype FROM audit_event WHERE entity_id = $1 ORDER BY id', [r.body.visitId]);
      assert.deepEqual(
        audit.rows.map((a) => a.subtype),
        ['visit.create', 'visit.plain-language-summary', 'visit.link-update'],
      );
    });

    test('with Claude: written in the language asked (default: the document’s), AIAST-labelled, and the request carries the language', async () => {
      fake.script(writeSummary);
      const { ehr, checkinId, patientId } = await checkedIn(ai);
      const spanishDocument = { ...visitSummaryBundle(patientId), language: 'es' };
      const r = await request(ai.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send(
          parameters(spanishDocument, [
            { name: 'plainLanguageSummary', valueBoolean: true },
            { name: 'readingLevel', valueCode: 'grade6' },
          ]),
        );
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.plainLanguageSummary.aiGenerated, true);
      assert.equal(r.body.plainLanguageSummary.language, 'es');
      assert.match(String(fake.requests[0]!.body.messages[0]!.content), /Language: Spanish \(es\)/);
      const got = await retrieveShl(parseShlink(r.body.shlink, { allowlist }), { recipient: 'wallet' }, wallet());
      const summary = summaryOf(got.files)!;
      assert.deepEqual(
        summary.meta?.security?.map((s) => s.code),
        [AIAST],
      );
      assert.equal(summary.language, 'es');
      assert.match(JSON.stringify(summary.section), /presión arterial alta/);

      const english = await request(ai.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send(
          parameters(spanishDocument, [
            { name: 'plainLanguageSummary', valueBoolean: true },
            { name: 'language', valueCode: 'en-us' },
          ]),
        );
      assert.equal(english.status, 201);
      assert.equal(english.body.plainLanguageSummary.language, 'en-US', 'an explicit language wins over the document’s, canonicalised');
    });

    test('later: the EHR adds the summary to the same link (a new version of its files), and renews it; other links and organizations are refused', async () => {
      fake.script(writeSummary);
      const { ehr, checkinId, patientId } = await checkedIn(ai);
      const made = await request(ai.app).post(`/checkin/${checkinId}/visit-summary`).auth(ehr, { type: 'bearer' }).send(visitSummaryBundle(patientId));
      assert.equal(made.status, 201);
      const link = parseShlink(made.body.shlink, { allowlist });
      const before = await retrieveShl(link, { recipient: 'wallet' }, wallet());
      assert.equal(summaryOf(before.files), undefined);

      const add = (body: object, token = ehr) => request(ai.app).post(`/visits/${made.body.visitId}/$add-plain-language-summary`).auth(token, { type: 'bearer' }).send(body);
      const shlinkParam = { name: 'shlink', valueString: made.body.shlink };
      const first = await add({ resourceType: 'Parameters', parameter: [shlinkParam, { name: 'language', valueCode: 'es' }] });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.plainLanguageSummary.language, 'es');
      const afterFirst = await retrieveShl(link, { recipient: 'wallet' }, wallet());
      assert.equal(afterFirst.files.length, 3);
      assert.equal(summaryOf(afterFirst.files)!.language, 'es');

      clock.advance(60_000);
      try {
        const again = await add({ resourceType: 'Parameters', parameter: [shlinkParam] });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.ok(Date.parse(again.body.plainLanguageSummary.lastUpdated) > Date.parse(first.body.plainLanguageSummary.lastUpdated));
        const afterAgain = await retrieveShl(link, { recipient: 'wallet' }, wallet());
        assert.equal(afterAgain.files.length, 3, 'the summary file is replaced, not added again');
        assert.equal(summaryOf(afterAgain.files)!.language, 'en');
      } finally {
        clock.advance(-60_000);
      }

      const other = await request(ai.app).post(`/checkin/${checkinId}/visit-summary`).auth(ehr, { type: 'bearer' }).send(visitSummaryBundle(patientId));
      const wrongLink = await add({ resourceType: 'Parameters', parameter: [{ name: 'shlink', valueString: other.body.shlink }] });
      assert.equal(wrongLink.status, 422, 'the link of another visit');
      const forgedKey = made.body.shlink.replace(/^shlink:\//, '');
      const payload = JSON.parse(Buffer.from(forgedKey, 'base64url').toString('utf8')) as { key: string };
      const forged = `shlink:/${Buffer.from(JSON.stringify({ ...payload, key: 'A'.repeat(43) })).toString('base64url')}`;
      assert.equal((await add({ resourceType: 'Parameters', parameter: [{ name: 'shlink', valueString: forged }] })).status, 422, 'the right manifest with a wrong key');
      assert.equal((await add({ resourceType: 'Parameters', parameter: [] })).status, 400);
      assert.equal((await add({ resourceType: 'Parameters', parameter: [shlinkParam] }, await ai.clientToken(EHR_B))).status, 404);

      const id = link.url.split('/').pop()!;
      assert.equal((await request(ai.app).delete(`/shl/${id}`).auth(ehr, { type: 'bearer' })).status, 204);
      assert.equal((await add({ resourceType: 'Parameters', parameter: [shlinkParam] })).status, 409, 'a revoked link is not updated');
      assert.ok(!JSON.stringify(ai.logs).includes(link.key), 'the link key never reaches the log');
    });

    test('the patient may add it to their own visit, another patient may not; a passcode link takes it; an expired link is 409', async () => {
      const { ehr, checkinId, patientId } = await checkedIn(noKey);
      const made = await request(noKey.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send(
          parameters(visitSummaryBundle(patientId), [
            { name: 'passcode', valueString: 'open sesame' },
            { name: 'expiresIn', valueInteger: 3600 },
          ]),
        );
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const body = { resourceType: 'Parameters', parameter: [{ name: 'shlink', valueString: made.body.shlink }] };
      const add = (token: string) => request(noKey.app).post(`/visits/${made.body.visitId}/$add-plain-language-summary`).auth(token, { type: 'bearer' }).send(body);
      const john = await idp.token({ sub: 'john', ...patientClaims() }, { now: clock.now() });
      const mary = await idp.token({ sub: 'mary', ...patientClaims() }, { now: clock.now() });
      assert.equal((await add(mary)).status, 404, 'another patient');
      assert.equal((await add(john)).status, 200, 'the patient of the visit');
      const link = parseShlink(made.body.shlink, { allowlist });
      const files = await retrieveShl(link, { recipient: 'wallet', passcode: 'open sesame' }, wallet());
      assert.ok(summaryOf(files.files), 'the passcode link carries the summary');

      clock.advance(3601 * 1000);
      try {
        assert.equal((await add(await noKey.clientToken(EHR_A))).status, 409, 'an expired link is not updated');
      } finally {
        clock.advance(-3601 * 1000);
      }
    });
  });
}
