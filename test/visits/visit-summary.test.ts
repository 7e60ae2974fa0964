import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import { numericToJws } from '../../src/shc/numeric-qr.js';
import { createShcVerifier } from '../../src/shc/verify.js';
import { parseShlink } from '../../src/shl/link.js';
import { retrieveShl } from '../../src/shl/receiver.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { httpAnswer } from '../helpers/http-answer.js';

const EHR_A = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/visit.write', 'system/visit.read'] };
const EHR_B = { ...EHR_A, clientId: 'ehr-b', organization: 'Clinic B' };

for (const tdb of testDatabases()) {
  describe(`visit summary back to the patient (${tdb.name})`, () => {
    let idp: Idp;
    let gw: TestGateway;
    let ehrA: string;
    let ehrB: string;
    let checkinId: string;
    let patientId: string;
    const clock = new ManualClock(Date.now());
    const allowlist = ['127.0.0.1'];
    const wallet = () => ({ fetch: createGuardedFetch({ allowlist }), clock });
    const idToken = () => idp.token({ sub: 'john', ...patientClaims() }, { now: clock.now() });
    const verifier = () =>
      createShcVerifier({ trust: { shcIssuers: [{ iss: gw.baseUrl, fetchJwks: true }], acceptUnknownShcIssuers: false }, fetch: createGuardedFetch({ allowlist }), clock });

    before(async () => {
      idp = await startIdp();
      gw = await startTestGateway({ db: await tdb.open(), clock, listen: true, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: allowlist } });
      ehrA = await gw.clientToken(EHR_A);
      ehrB = await gw.clientToken(EHR_B);
      const r = await request(gw.app)
        .post('/checkin')
        .auth(ehrA, { type: 'bearer' })
        .send({ identityToken: await idToken(), bundle: clipboardBundle() });
      assert.equal(r.status, 201);
      checkinId = r.body.id;
      patientId = (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id!;
    });
    after(async () => {
      await gw.close();
      await idp.close();
      await tdb.cleanup();
    });

    const post = (body: unknown, token = ehrA) =>
      request(gw.app)
        .post(`/checkin/${checkinId}/visit-summary`)
        .auth(token, { type: 'bearer' })
        .send(body as object);
    const withOptions = (opts: { passcode?: string; expiresIn?: number; singleFile?: boolean }) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'bundle', resource: visitSummaryBundle(patientId) },
        ...(opts.passcode ? [{ name: 'passcode', valueString: opts.passcode }] : []),
        ...(opts.expiresIn ? [{ name: 'expiresIn', valueInteger: opts.expiresIn }] : []),
        ...(opts.singleFile ? [{ name: 'singleFile', valueBoolean: true }] : []),
      ],
    });

    const withSummary = (extra: object[] = [], bundle: Bundle = visitSummaryBundle(patientId)) => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'bundle', resource: bundle }, { name: 'plainLanguageSummary', valueBoolean: true }, ...extra],
    });

    test('round trip: a wallet with nothing but the shlink gets the same Bundle', async () => {
      const sent = visitSummaryBundle(patientId);
      const r = await post(sent);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const { visitId, shlink, viewerUrl, qr, expiresAt, healthCard } = r.body;
      assert.match(shlink, /^shlink:\/[A-Za-z0-9_-]+$/);
      assert.equal(viewerUrl, `${gw.baseUrl}/view#${shlink}`);
      assert.match(qr.svg, /^<svg/);
      assert.match(qr.png, /^data:image\/png;base64,/);
      assert.ok(Date.parse(expiresAt) - clock.now() > 29 * 24 * 3600 * 1000);

      const link = parseShlink(shlink, { allowlist });
      assert.equal(link.key.length, 43);
      assert.match(link.url, new RegExp(`^${gw.baseUrl}/shl/[A-Za-z0-9_-]{43}$`));
      const got = await retrieveShl(link, { recipient: 'John’s wallet' }, wallet());
      const fhirFile = got.files.find((f) => f.contentType === 'application/fhir+json');
      assert.ok(fhirFile && fhirFile.contentType === 'application/fhir+json');
      assert.deepEqual(fhirFile.resource, sent);

      // Too large for one QR, the card is still a file of the link (no QR limit inside a link), and a download.
      assert.equal(healthCard.fitsSingleQr, false);
      assert.equal(healthCard.inLink, true);
      assert.deepEqual(
        got.files.map((f) => f.contentType),
        ['application/fhir+json', 'application/smart-health-card'],
      );
      const inLink = got.files.find((f) => f.contentType === 'application/smart-health-card');
      assert.ok(inLink && inLink.contentType === 'application/smart-health-card');
      const [linked] = await verifier().verifyInput({ verifiableCredential: inLink.verifiableCredential });
      assert.equal(linked!.verified, true, 'the card in the link verifies against /.well-known/jwks.json');
      assert.equal(linked!.bundle.entry!.length, sent.entry!.length);
      const download = await request(gw.app)
        .get(`/visits/${visitId}/health-card`)
        .auth(await idToken(), { type: 'bearer' });
      assert.equal(download.status, 200);
      assert.match(String(download.headers['content-type']), /application\/smart-health-card/);
      assert.match(String(download.headers['content-disposition']), /\.smart-health-card"/);
      const [card] = await verifier().verifyInput(JSON.parse(download.text));
      assert.equal(card!.verified, true);

      const ehrRead = await request(gw.app).get(`/visits/${visitId}`).auth(ehrA, { type: 'bearer' });
      assert.deepEqual(ehrRead.body, sent);
      const patientRead = await request(gw.app)
        .get(`/visits/${visitId}`)
        .auth(await idToken(), { type: 'bearer' });
      assert.equal(patientRead.status, 200);
      assert.equal((await request(gw.app).get(`/visits/${visitId}`).auth(ehrB, { type: 'bearer' })).status, 404);
      const stranger = await idp.token({ sub: 'someone-else', ...patientClaims() }, { now: clock.now() });
      assert.equal((await request(gw.app).get(`/visits/${visitId}`).auth(stranger, { type: 'bearer' })).status, 404);
      assert.ok(!JSON.stringify(gw.logs).includes(link.key), 'the link key never reaches the log');
    });

    test('a summary that fits one QR is also in the manifest as a card signed by the gateway', async () => {
      const r = await post(visitSummaryBundle(patientId, { compact: true }));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const { healthCard, shlink } = r.body;
      assert.equal(healthCard.fitsSingleQr, true);
      const got = await retrieveShl(parseShlink(shlink, { allowlist }), { recipient: 'wallet' }, wallet());
      const shcFile = got.files.find((f) => f.contentType === 'application/smart-health-card');
      assert.ok(shcFile && shcFile.contentType === 'application/smart-health-card');
      const [card] = await verifier().verifyInput({ verifiableCredential: shcFile.verifiableCredential });
      assert.equal(card!.verified, true, 'verifies against the published /.well-known/jwks.json');
      assert.equal(card!.issuer, gw.baseUrl);
      const condition = card!.bundle.entry!.find((e) => e.resource!.resourceType === 'Condition')!.resource as { code: { coding: { code: string }[] } };
      assert.equal(condition.code.coding[0]!.code, '38341003');
      assert.equal(numericToJws(healthCard.qrNumeric.slice('shc:/'.length)), shcFile.verifiableCredential[0], 'the numeric QR decodes to the same JWS');
      assert.match(healthCard.qr.svg, /^<svg/);
    });

    test('a passcode makes a P link; wrong guesses count down and lock it', async () => {
      const r = await post(withOptions({ passcode: 'open sesame' }));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const link = parseShlink(r.body.shlink, { allowlist });
      assert.match(link.flag, /P/);
      const wrong = httpAnswer(await retrieveShl(link, { recipient: 'wallet', passcode: 'nope' }, wallet()).catch((e: unknown) => e));
      assert.equal(wrong?.status, 422);
      assert.match(JSON.stringify(wrong?.outcome), /remainingAttempts|attempts/i);
      const ok = await retrieveShl(link, { recipient: 'wallet', passcode: 'open sesame' }, wallet());
      assert.ok(ok.files.length >= 1);
      let last = 0;
      for (let i = 0; i < 20; i++) {
        const res = await fetch(link.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ recipient: 'guesser', passcode: `guess-${i}` }),
        });
        last = res.status;
        if (res.status === 404) break;
        assert.equal(res.status, 401);
      }
      assert.equal(last, 404, 'locked after the allowance is spent');
      const afterLock = await fetch(link.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ recipient: 'wallet', passcode: 'open sesame' }),
      });
      assert.equal(afterLock.status, 404, 'even the right passcode no longer opens a locked link');
    });

    test('links expire', async () => {
      const r = await post(withOptions({ expiresIn: 3600 }));
      const link = parseShlink(r.body.shlink, { allowlist });
      clock.advance(3601 * 1000);
      try {
        const res = await fetch(link.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ recipient: 'wallet' }) });
        assert.equal(res.status, 404);
      } finally {
        clock.advance(-3601 * 1000);
      }
    });

    test('the EHR that made a link can revoke it', async () => {
      const r = await post(visitSummaryBundle(patientId));
      const link = parseShlink(r.body.shlink, { allowlist });
      const id = link.url.split('/').pop()!;
      assert.equal((await request(gw.app).delete(`/shl/${id}`).auth(ehrB, { type: 'bearer' })).status, 404, 'not another organization');
      assert.equal((await request(gw.app).delete(`/shl/${id}`).auth(ehrA, { type: 'bearer' })).status, 204);
      const res = await fetch(link.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ recipient: 'wallet' }) });
      assert.equal(res.status, 404);
    });

    test('a single-file (U) link serves its one file directly: the signed card, which carries the whole document', async () => {
      const r = await post(withOptions({ singleFile: true }));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const link = parseShlink(r.body.shlink, { allowlist });
      assert.match(link.flag, /U/);
      const got = await retrieveShl(link, { recipient: 'wallet' }, wallet());
      assert.equal(got.files.length, 1);
      const file = got.files[0]!;
      assert.ok(file.contentType === 'application/smart-health-card');
      const [card] = await verifier().verifyInput({ verifiableCredential: file.verifiableCredential });
      assert.equal(card!.verified, true);
      assert.equal(card!.bundle.entry!.find((e) => e.resource!.resourceType === 'Composition')!.resource!.resourceType, 'Composition');
    });

    test('another organization cannot post a summary for this check-in', async () => {
      const r = await post(visitSummaryBundle(patientId), ehrB);
      assert.equal(r.status, 404);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    });

    const bad: [string, () => unknown, number][] = [
      ['a Bundle about another patient', () => visitSummaryBundle('00000000-0000-4000-8000-000000000000'), 422],
      [
        'a Bundle without an Encounter',
        () => ({ ...visitSummaryBundle(patientId), entry: visitSummaryBundle(patientId).entry!.filter((e) => e.resource!.resourceType !== 'Encounter') }),
        422,
      ],
      ['a collection instead of a document', () => ({ ...visitSummaryBundle(patientId), type: 'collection' }), 422],
      ['a passcode together with the U flag', () => withOptions({ passcode: 'abcd', singleFile: true }), 400],
      [
        'an unknown parameter',
        () => ({
          resourceType: 'Parameters',
          parameter: [
            { name: 'bundle', resource: visitSummaryBundle(patientId) },
            { name: 'color', valueString: 'red' },
          ],
        }),
        400,
      ],
      ['a Patient resource', () => ({ resourceType: 'Patient' }), 400],
      [
        'plainLanguageSummary that is not a boolean',
        () => ({ ...withOptions({}), parameter: [...withOptions({}).parameter, { name: 'plainLanguageSummary', valueString: 'yes' }] }),
        400,
      ],
      ['a language without plainLanguageSummary', () => ({ ...withOptions({}), parameter: [...withOptions({}).parameter, { name: 'language', valueCode: 'es' }] }), 400],
      ['a language that is not BCP 47', () => withSummary([{ name: 'language', valueCode: 'not a tag' }]), 400],
      ['an unknown reading level', () => withSummary([{ name: 'readingLevel', valueCode: 'grade2' }]), 400],
      [
        'plainLanguageSummary with the U flag',
        () => ({ ...withOptions({ singleFile: true }), parameter: [...withOptions({ singleFile: true }).parameter, { name: 'plainLanguageSummary', valueBoolean: true }] }),
        400,
      ],
    ];
    for (const [what, body, status] of bad) {
      test(`${what} is ${status}`, async () => {
        const r = await post(body());
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.equal(r.body.resourceType, 'OperationOutcome');
      });
    }

    test('a passcode in the query string is refused', async () => {
      const r = await request(gw.app).post(`/checkin/${checkinId}/visit-summary?passcode=1234`).auth(ehrA, { type: 'bearer' }).send(visitSummaryBundle(patientId));
      assert.equal(r.status, 400);
    });
  });
}
