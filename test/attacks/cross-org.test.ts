import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { parseShlink } from '../../src/shl/link.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { listRoutes } from '../helpers/routes.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';
import type { PurposeOfUse } from '../../src/identity/purpose-of-use.js';
import { createDeliveryWorker } from '../../src/notifications/worker.js';
import { patientConsent } from '../helpers/network-client.js';
import { restHookSubscription } from './subscription-body.js';

/**
 * Cross-organization and cross-patient access on every route that takes an id. Organization A
 * owns a check-in (through a kiosk session), a visit summary with its passcode link, audit
 * events, a Subscription, an Encounter and an Appointment. Then a client of organization B
 * holding every scope, a different (valid IAL2) patient, the owner's subject from another trusted
 * identity provider, and a scopeless client of B call each
 * route with A's ids: each gets the answer it would get for an id that never existed, and A's
 * data is unchanged. A route with a `:param` that the table does not classify fails the test.
 */

const SCOPES = [
  'system/*.*',
  'system/checkin.write',
  'system/checkin.read',
  'system/visit.write',
  'system/visit.read',
  'system/AuditEvent.read',
  'system/Subscription.read',
  'system/Subscription.write',
  'system/Encounter.write',
  'system/Encounter.read',
  'system/Appointment.write',
  'system/Appointment.read',
];
const ORG_A = { clientId: 'ehr-a', organization: 'Clinic A', scopes: SCOPES };
const ORG_B = { clientId: 'ehr-b', organization: 'Clinic B', scopes: SCOPES };
const ORG_B_NO_SCOPES = { clientId: 'ehr-b-bare', organization: 'Clinic B', scopes: [] };
/** A network client of B stating every purpose of use, subscribed to A's patient by MRN and identity, with no agreement and no consent for B. */
const ORG_B_NETWORK = {
  clientId: 'network-b',
  organization: 'Clinic B',
  scopes: SCOPES,
  purposes: ['TREAT', 'HPAYMT', 'HOPERAT', 'PUBHLTH', 'COVERAGE', 'PATRQT'] as PurposeOfUse[],
};
/** Organizations registered at the gateway (a consent can only name one of them). */
const REGISTERED = ['Clinic A', 'Clinic B', 'Clinic C'].map((organization, i) => ({
  clientId: `registered-${i}`,
  organization,
  jwksUri: 'https://unused.example/jwks',
  scopes: [],
}));
const PASSCODE = 'cross-org-passcode';
const SNAPSHOT_TABLES = [
  'fhir_resource',
  'checkin',
  'checkin_session',
  'visit',
  'visit_summary_cache',
  'shl_link',
  'shl_file',
  'shl_ticket',
  'subscription',
  'subscription_patient',
  'notification_event',
  'outbox',
  'patient_consent',
];

interface OrgAData {
  waitingSession: string;
  usedSession: string;
  checkinId: string;
  patientId: string;
  visitId: string;
  linkId: string;
  subscriptionId: string;
  encounterId: string;
  appointmentId: string;
  /** The owner's Consent for Clinic C (not B). */
  consentId: string;
  /** B's network subscription naming A's patient. */
  networkSubscriptionId: string;
}

type Caller = 'orgB' | 'orgBNetwork' | 'otherPatient' | 'sameSubjectOtherIssuer' | 'orgBNoScopes';
const CALLERS: Caller[] = ['orgB', 'orgBNetwork', 'otherPatient', 'sameSubjectOtherIssuer', 'orgBNoScopes'];
/** Both patient callers are held to the same answer; B's network client to B's. */
type Expectation = { orgB: number; patient: number; orgBNoScopes: number };
const expected = (e: Expectation, caller: Caller) => (caller === 'orgB' || caller === 'orgBNoScopes' ? e[caller] : caller === 'orgBNetwork' ? e.orgB : e.patient);
const uuidId = () => randomUUID();
const linkId = () => randomBytes(32).toString('base64url');

/** How a route that takes an id must treat callers who do not own the data behind it. */
type Rule =
  | {
      kind: 'owned';
      /** A's id for the route, and an id of the same shape that does not exist. */
      id: (d: OrgAData) => string;
      fresh: () => string;
      body?: (d: OrgAData, id: string) => object;
      /** Expected status per caller; the answer must also equal the one for the fresh id. */
      expect: Expectation;
    }
  | { kind: 'public'; why: string }
  | { kind: 'capability'; why: string };

const subscriptionRoute = (expectB: number): Rule => ({ kind: 'owned', id: (d) => d.subscriptionId, fresh: uuidId, expect: { orgB: expectB, patient: 401, orgBNoScopes: 403 } });
const resourceRead = (id: (d: OrgAData) => string): Rule => ({ kind: 'owned', id, fresh: uuidId, expect: { orgB: 404, patient: 401, orgBNoScopes: 403 } });
const resourceWrite = (type: 'Encounter' | 'Appointment', id: (d: OrgAData) => string): Rule => ({
  kind: 'owned',
  id,
  fresh: uuidId,
  body: (_d, target) =>
    type === 'Encounter'
      ? {
          resourceType: 'Encounter',
          id: target,
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: 'Patient/hijack' },
        }
      : { resourceType: 'Appointment', id: target, status: 'cancelled', participant: [{ status: 'declined', actor: { reference: 'Patient/hijack' } }] },
  expect: { orgB: 404, patient: 401, orgBNoScopes: 403 },
});

/** Every route with a `:param`, classified. A new one must be added here. */
const RULES: Record<string, Rule> = {
  'GET /checkin/sessions/:id': { kind: 'owned', id: (d) => d.waitingSession, fresh: linkId, expect: { orgB: 404, patient: 401, orgBNoScopes: 403 } },
  'POST /checkin/sessions/:id/submit': {
    kind: 'capability',
    why: 'the session id is the QR the kiosk shows to whoever stands in front of it; used once (checked below)',
  },
  'POST /checkin/sessions/:id/identity': { kind: 'owned', id: (d) => d.waitingSession, fresh: linkId, body: () => ({}), expect: { orgB: 404, patient: 401, orgBNoScopes: 403 } },
  'GET /checkin/:id': { kind: 'owned', id: (d) => d.checkinId, fresh: uuidId, expect: { orgB: 404, patient: 404, orgBNoScopes: 403 } },
  'POST /checkin/:id/visit-summary': {
    kind: 'owned',
    id: (d) => d.checkinId,
    fresh: uuidId,
    body: (d) => visitSummaryBundle(d.patientId),
    expect: { orgB: 404, patient: 401, orgBNoScopes: 403 },
  },
  'GET /visits/:id': { kind: 'owned', id: (d) => d.visitId, fresh: uuidId, expect: { orgB: 404, patient: 404, orgBNoScopes: 403 } },
  'GET /visits/:id/health-card': { kind: 'owned', id: (d) => d.visitId, fresh: uuidId, expect: { orgB: 404, patient: 404, orgBNoScopes: 403 } },
  'POST /visits/:id/$plain-language-summary': { kind: 'owned', id: (d) => d.visitId, fresh: uuidId, body: () => ({}), expect: { orgB: 404, patient: 404, orgBNoScopes: 403 } },
  'POST /visits/:id/$add-plain-language-summary': {
    kind: 'owned',
    id: (d) => d.visitId,
    fresh: uuidId,
    body: () => ({ resourceType: 'Parameters', parameter: [{ name: 'shlink', valueString: 'shlink:/e30' }] }),
    expect: { orgB: 404, patient: 404, orgBNoScopes: 403 },
  },
  'GET /fhir/SubscriptionTopic/:id': { kind: 'public', why: 'topic definitions, the same for everyone' },
  'GET /fhir/Basic/:id': { kind: 'public', why: 'topic definitions as Basic, the same for everyone' },
  'GET /fhir/Subscription/:id/$status': subscriptionRoute(404),
  'POST /fhir/Subscription/:id/$status': subscriptionRoute(404),
  'GET /fhir/Subscription/:id/$events': subscriptionRoute(404),
  'POST /fhir/Subscription/:id/$events': subscriptionRoute(404),
  'GET /fhir/Subscription/:id': subscriptionRoute(404),
  'DELETE /fhir/Subscription/:id': subscriptionRoute(404),
  'PUT /fhir/Encounter/:id': resourceWrite('Encounter', (d) => d.encounterId),
  'GET /fhir/Encounter/:id': resourceRead((d) => d.encounterId),
  'PUT /fhir/Appointment/:id': resourceWrite('Appointment', (d) => d.appointmentId),
  'GET /fhir/Appointment/:id': resourceRead((d) => d.appointmentId),
  'GET /fhir/Patient/:id': resourceRead((d) => d.patientId),
  'DELETE /fhir/Consent/:id': { kind: 'owned', id: (d) => d.consentId, fresh: uuidId, expect: { orgB: 401, patient: 404, orgBNoScopes: 401 } },
  'OPTIONS /shl/:id': { kind: 'public', why: 'CORS preflight, answered alike for any id' },
  'OPTIONS /shl/:id/file/:fileId': { kind: 'public', why: 'CORS preflight, answered alike for any id' },
  'POST /shl/:id': { kind: 'capability', why: 'SHL manifest: the link is the credential (checked below: a token adds nothing)' },
  'GET /shl/:id/file/:fileId': { kind: 'capability', why: 'SHL location: the single-use ticket is the credential' },
  'GET /shl/:id': { kind: 'capability', why: 'SHL U-flag file: the link is the credential' },
  'DELETE /shl/:id': { kind: 'owned', id: (d) => d.linkId, fresh: linkId, expect: { orgB: 404, patient: 404, orgBNoScopes: 403 } },
  'GET /web/:file': { kind: 'public', why: 'static page assets' },
};

for (const tdb of testDatabases()) {
  describe(`cross-organization access on every route (${tdb.name})`, () => {
    let idp: Idp;
    let otherIdp: Idp;
    let subscriber: Subscriber;
    let gw: TestGateway;
    let d: OrgAData;
    const tokens = {} as Record<'orgA' | 'owner' | Caller, string>;
    const call = (method: string, path: string, token: string | undefined, body?: object) => {
      let r = request(gw.app)[method.toLowerCase() as 'get'](path);
      if (token) r = r.auth(token, { type: 'bearer' });
      return body ? r.send(body) : r;
    };

    before(async () => {
      idp = await startIdp();
      otherIdp = await startIdp();
      subscriber = await startSubscriber();
      gw = await startTestGateway({
        db: await tdb.open(),
        trust: { identityProviders: [idp.providerConfig(), otherIdp.providerConfig()], clients: REGISTERED, outboundAllowlist: ['127.0.0.1'] },
      });
      tokens.orgA = await gw.clientToken(ORG_A);
      tokens.orgB = await gw.clientToken(ORG_B);
      tokens.orgBNetwork = await gw.clientToken(ORG_B_NETWORK);
      tokens.orgBNoScopes = await gw.clientToken(ORG_B_NO_SCOPES);
      tokens.owner = await idp.token({ sub: 'john', ...patientClaims() }, { expiresIn: 3600 });
      // Same name and birth date, another identity: demographics alone must never open A's data.
      tokens.otherPatient = await idp.token({ sub: 'mallory', ...patientClaims() }, { expiresIn: 3600 });
      // The owner's subject, from another trusted provider: a patient is issuer and subject together.
      tokens.sameSubjectOtherIssuer = await otherIdp.token({ sub: 'john', ...patientClaims() }, { expiresIn: 3600 });

      const a = (method: 'get' | 'post', path: string) => request(gw.app)[method](path).auth(tokens.orgA, { type: 'bearer' });
      const created = (r: request.Response) => {
        assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
        return r.body as Record<string, unknown>;
      };
      const waiting = created(await a('post', '/checkin/sessions').send({}));
      const used = created(await a('post', '/checkin/sessions').send({}));
      const checkin = created(
        await request(gw.app).post(`/checkin/sessions/${used.id}/submit`).auth(tokens.owner, { type: 'bearer' }).send({ bundle: clipboardBundle() }),
      ) as unknown as Bundle;
      const patientId = checkin.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id!;
      const visit = created(
        await a('post', `/checkin/${checkin.id}/visit-summary`).send({
          resourceType: 'Parameters',
          parameter: [
            { name: 'bundle', resource: visitSummaryBundle(patientId) },
            { name: 'passcode', valueString: PASSCODE },
          ],
        }),
      );
      created(await a('post', `/visits/${visit.visitId}/$plain-language-summary`).send({}));
      const subscription = created(await a('post', '/fhir/Subscription').send(restHookSubscription(subscriber.url)));
      assert.equal(subscription.status, 'active');
      const consent = created(await call('POST', '/fhir/Consent', tokens.owner, patientConsent('Clinic C')));
      const patientFilter = `Encounter?patient.identifier=${encodeURIComponent('http://hospital.example/mrn')}|MRN-1001,${idp.issuer}|john`;
      const network = created(await call('POST', '/fhir/Subscription', tokens.orgBNetwork, restHookSubscription(subscriber.url, [patientFilter])));
      assert.equal(network.status, 'active');
      const encounter = created(
        await a('post', '/fhir/Encounter').send({
          resourceType: 'Encounter',
          status: 'arrived',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: `Patient/${patientId}` },
        }),
      );
      const appointment = created(
        await a('post', '/fhir/Appointment').send({
          resourceType: 'Appointment',
          status: 'booked',
          start: '2027-05-20T09:00:00Z',
          end: '2027-05-20T09:20:00Z',
          participant: [{ status: 'accepted', actor: { reference: `Patient/${patientId}` } }],
        }),
      );
      d = {
        waitingSession: waiting.id as string,
        usedSession: used.id as string,
        checkinId: checkin.id!,
        patientId,
        visitId: visit.visitId as string,
        linkId: new URL(parseShlink(visit.shlink as string, { allowlist: ['127.0.0.1'] }).url).pathname.split('/').pop()!,
        subscriptionId: subscription.id as string,
        encounterId: encounter.id as string,
        appointmentId: appointment.id as string,
        consentId: consent.id as string,
        networkSubscriptionId: network.id as string,
      };
    });
    after(async () => {
      await gw.close();
      await subscriber.close();
      await idp.close();
      await otherIdp.close();
      await tdb.cleanup();
    });

    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const t of SNAPSHOT_TABLES) out[t] = (await gw.services.db.query(`SELECT * FROM ${t} ORDER BY 1, 2`)).rows;
      return JSON.parse(JSON.stringify(out)) as Record<string, unknown[]>;
    };
    const fill = (path: string, id: string) => path.replace(/:[A-Za-z]+/g, id);

    test('every route with a :param is classified, and every classified route exists', () => {
      const served = [
        ...new Set(
          listRoutes(gw.app)
            .filter((r) => r.path.includes(':'))
            .map((r) => `${r.method} ${r.path}`),
        ),
      ];
      const unclassified = served.filter((key) => !(key in RULES));
      assert.deepEqual(unclassified, [], 'new routes with a :param: add each to RULES in test/attacks/cross-org.test.ts');
      assert.deepEqual(
        Object.keys(RULES).filter((key) => !served.includes(key)),
        [],
        'RULES names routes the app no longer serves',
      );
    });

    test("another organization with every scope, another patient and a scopeless client get, on A's ids, exactly what an unknown id gets; A's data is unchanged", async () => {
      const before = await snapshot();
      const owned = Object.entries(RULES).filter((e): e is [string, Extract<Rule, { kind: 'owned' }>] => e[1].kind === 'owned');
      // DELETE last, so an allowed delete could not hide what the reads would have shown.
      owned.sort(([a], [b]) => Number(a.startsWith('DELETE')) - Number(b.startsWith('DELETE')));
      for (const [key, rule] of owned) {
        const [method, path] = key.split(' ') as [string, string];
        for (const caller of CALLERS) {
          const realId = rule.id(d);
          const freshId = rule.fresh();
          const onA = await call(method, fill(path, realId), tokens[caller], rule.body?.(d, realId));
          const onNothing = await call(method, fill(path, freshId), tokens[caller], rule.body?.(d, freshId));
          const what = `${caller} ${key}`;
          assert.equal(onA.status, expected(rule.expect, caller), `${what}: ${onA.status} ${onA.text.slice(0, 300)}`);
          assert.equal(onA.body.resourceType, 'OperationOutcome', what);
          assert.equal(onA.text.replaceAll(realId, 'ID'), onNothing.text.replaceAll(freshId, 'ID'), `${what}: A's id must be indistinguishable from an unknown one`);
        }
      }
      assert.deepEqual(await snapshot(), before, "A's data is unchanged");
    });

    test('capability routes: a token of another organization or patient adds nothing to what the link alone gives', async () => {
      const before = await snapshot();
      const link = `/shl/${d.linkId}`;
      const cases: [string, string, object?][] = [
        ['POST', link, { recipient: 'cross-org' }],
        ['GET', `${link}?recipient=cross-org`],
        ['GET', `${link}/file/0?token=${linkId()}`],
      ];
      for (const [method, path, body] of cases) {
        const anonymous = await call(method, path, undefined, body);
        for (const caller of CALLERS) {
          const r = await call(method, path, tokens[caller], body);
          assert.deepEqual([r.status, r.text], [anonymous.status, anonymous.text], `${caller} ${method} ${path.replace(d.linkId, 'ID')}`);
        }
      }
      assert.equal((await call('POST', link, undefined, { recipient: 'x' })).status, 401, 'still a passcode link, nothing counted');

      // The kiosk session QR: once used, it is used for everyone; a client token is not a patient.
      for (const caller of CALLERS) {
        const r = await call('POST', `/checkin/sessions/${d.usedSession}/submit`, tokens[caller], { bundle: clipboardBundle() });
        assert.equal(r.status, caller === 'otherPatient' || caller === 'sameSubjectOtherIssuer' ? 409 : 401, `${caller}: ${r.text.slice(0, 200)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      }
      assert.deepEqual(await snapshot(), before, "A's data is unchanged");
    });

    test("lists and searches of another organization never show A's data", async () => {
      const asB = (path: string) => call('GET', path, tokens.orgB);
      const audit = await asB('/fhir/AuditEvent?_count=1000');
      assert.equal(audit.status, 200);
      const mentions = JSON.stringify(audit.body);
      for (const id of [d.checkinId, d.visitId, d.subscriptionId, d.encounterId, d.appointmentId, d.linkId.slice(0, 8)])
        assert.ok(!mentions.includes(id), `B's audit trail shows A's ${id}`);
      for (const entity of [`Bundle/${d.checkinId}`, `Bundle/${d.visitId}`, `Subscription/${d.subscriptionId}`, `Encounter/${d.encounterId}`]) {
        const r = await asB(`/fhir/AuditEvent?entity=${encodeURIComponent(entity)}`);
        assert.equal((r.body as Bundle<AuditEvent>).total, 0, entity);
      }
      const aAudit = await call('GET', `/fhir/AuditEvent?entity=${encodeURIComponent(`Bundle/${d.checkinId}`)}`, tokens.orgA);
      assert.ok(((aAudit.body as Bundle).total ?? 0) > 0, 'control: A sees its own audit events');

      const subs = await asB('/fhir/Subscription');
      assert.equal(subs.status, 200);
      assert.ok(!JSON.stringify(subs.body).includes(d.subscriptionId));
      for (const r of [
        await asB(`/fhir/Subscription/$status?id=${d.subscriptionId}`),
        await call('POST', '/fhir/Subscription/$status', tokens.orgB, { resourceType: 'Parameters', parameter: [{ name: 'id', valueString: d.subscriptionId }] }),
      ]) {
        assert.equal(r.status, 200, r.text);
        assert.ok(!JSON.stringify(r.body).includes(d.subscriptionId), 'type-level $status names only own subscriptions');
      }
    });

    test("creating with A's ids in the body makes B's own resource and leaves A's alone", async () => {
      const aRows = async () => (await gw.services.db.query("SELECT resource_type, id, version_id, content FROM fhir_resource WHERE organization = 'Clinic A' ORDER BY 1, 2")).rows;
      const before = JSON.stringify(await aRows());
      for (const [type, id, body] of [
        [
          'Encounter',
          d.encounterId,
          {
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: 'Patient/x' },
          },
        ],
        ['Appointment', d.appointmentId, { resourceType: 'Appointment', status: 'cancelled', participant: [{ status: 'declined', actor: { reference: 'Patient/x' } }] }],
      ] as const) {
        const r = await call('POST', `/fhir/${type}`, tokens.orgB, { ...body, id });
        assert.ok(r.status === 201 || r.status === 400, `${type}: ${r.status} ${r.text.slice(0, 200)}`);
        if (r.status === 201) assert.notEqual(r.body.id, id, 'the server assigns the id');
      }
      assert.equal(JSON.stringify(await aRows()), before);
    });

    test("a network of B subscribed to A's patient, without agreement or consent for B, is told nothing; a patient lists only their own Consents", async () => {
      await createDeliveryWorker(gw.services).runOnce();
      assert.deepEqual(subscriber.events(d.networkSubscriptionId), [], "no event of A's reaches B");
      assert.ok(subscriber.events(d.subscriptionId).length > 0, "control: A's own subscription heard of A's encounter");
      for (const caller of ['otherPatient', 'sameSubjectOtherIssuer'] as const) {
        const r = await call('GET', '/fhir/Consent', tokens[caller]);
        assert.equal(r.status, 200);
        assert.equal((r.body as Bundle).total, 0, caller);
      }
      assert.equal((await call('GET', '/fhir/Consent', tokens.orgBNetwork)).status, 401, 'Consents are the patient’s, not a client’s');
    });

    test('control: A still reads all of it', async () => {
      for (const path of [
        `/checkin/${d.checkinId}`,
        `/visits/${d.visitId}`,
        `/fhir/Subscription/${d.subscriptionId}`,
        `/fhir/Encounter/${d.encounterId}`,
        `/fhir/Appointment/${d.appointmentId}`,
        `/checkin/sessions/${d.waitingSession}`,
      ]) {
        const r = await call('GET', path, tokens.orgA);
        assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 200)}`);
      }
      assert.equal((await call('GET', `/visits/${d.visitId}`, tokens.owner)).status, 200, 'and so does its patient');
      assert.equal((await call('GET', `/fhir/Subscription/${d.subscriptionId}`, tokens.orgA)).body.status, 'active');
    });
  });
}
