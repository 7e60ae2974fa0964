import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, Bundle, CapabilityStatement, Consent, Encounter, Organization, Patient, Subscription } from '@medplum/fhirtypes';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/notifications/worker.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { networkClient, patientConsent, type NetworkClient } from '../helpers/network-client.js';
import { startSubscriber, type Notification, type Subscriber } from '../helpers/subscriber.js';

/**
 * Aligned networks of other organizations: Clinic A shares with the HIE for treatment, Clinic B
 * does not; Network 2 has no agreement; the Patient App Network only ever gets what a patient's
 * Consent gives it. Real token requests (UDAP hl7-b2b in the client assertion), a real identity
 * provider and a real subscriber endpoint on loopback.
 */

const ENCOUNTER_START = TOPICS[0]!.url;
const MRN = 'http://hospital.example/mrn';
const TREAT_OID = 'urn:oid:2.16.840.1.113883.5.8#TREAT';
const PATRQT_URI = 'http://terminology.hl7.org/CodeSystem/v3-ActReason#PATRQT';
const JOHN = { given: 'John B.', family: 'Anyperson', birthDate: '1951-01-20' };
const JANE = { given: 'Jane', family: 'Doe', birthDate: '1980-02-03' };

function subscription(endpoint: string, filters: string[], payload = 'full-resource'): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: 'aligned network',
    criteria: ENCOUNTER_START,
    ...(filters.length ? { _criteria: { extension: filters.map((valueString) => ({ url: BP.filterCriteria, valueString })) } } : {}),
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: payload }] } },
  } as Subscription;
}

const resourcesOf = (n: Notification) => n.bundle.entry!.flatMap((e) => (e.resource ? [e.resource] : []));

for (const tdb of testDatabases()) {
  describe(`aligned networks of other organizations (${tdb.name})`, () => {
    let idp: Idp;
    let subscriber: Subscriber;
    let gw: TestGateway;
    let worker: DeliveryWorker;
    let hie: NetworkClient;
    let network2: NetworkClient;
    let appNetwork: NetworkClient;
    const kiosk = { a: '', b: '' };
    let auditorA = '';

    before(async () => {
      idp = await startIdp();
      subscriber = await startSubscriber();
      hie = await networkClient('hie', 'HIE');
      network2 = await networkClient('network-2', 'Network 2');
      appNetwork = await networkClient('app-network', 'Patient App Network');
      const kiosks = ['Clinic A', 'Clinic B'].map((organization, i) => ({
        clientId: `kiosk-${i}`,
        organization,
        jwksUri: 'https://unused.example/jwks',
        scopes: ['system/checkin.write', 'system/AuditEvent.read'],
      }));
      gw = await startTestGateway({
        db: await tdb.open(),
        trust: {
          identityProviders: [idp.providerConfig()],
          clients: [...kiosks, hie.config, network2.config, appNetwork.config],
          dataSharing: [{ from: 'Clinic A', to: 'HIE', purposes: ['TREAT'] }],
          outboundAllowlist: ['127.0.0.1'],
        },
      });
      worker = createDeliveryWorker(gw.services);
      kiosk.a = await gw.clientToken({ clientId: 'kiosk-0', organization: 'Clinic A', scopes: ['system/checkin.write'] });
      kiosk.b = await gw.clientToken({ clientId: 'kiosk-1', organization: 'Clinic B', scopes: ['system/checkin.write'] });
      auditorA = await gw.clientToken({ clientId: 'kiosk-0', organization: 'Clinic A', scopes: ['system/AuditEvent.read'] });
    });
    after(async () => {
      await gw.close();
      await subscriber.close();
      await idp.close();
      await tdb.cleanup();
    });

    const patientToken = (sub: string, who = JOHN) => idp.token({ sub, ...patientClaims(who) });
    /** A check-in at a clinic; returns the arrival Encounter and the Patient. */
    async function checkIn(clinic: 'a' | 'b', sub: string, who = JOHN, mrn = 'MRN-1001') {
      const bundle = clipboardBundle(who);
      (bundle.entry![0]!.resource as Patient).identifier = [{ system: MRN, value: mrn }];
      const r = await request(gw.app)
        .post('/checkin')
        .auth(kiosk[clinic], { type: 'bearer' })
        .send({ identityToken: await patientToken(sub, who), bundle });
      assert.equal(r.status, 201, r.text.slice(0, 300));
      const find = <T>(type: string) => (r.body as Bundle).entry!.find((e) => e.resource!.resourceType === type)!.resource as T;
      return { encounter: find<Encounter>('Encounter'), patient: find<Patient>('Patient') };
    }
    async function subscribe(token: string, filters: string[], expect = 201) {
      const r = await request(gw.app).post('/fhir/Subscription').auth(token, { type: 'bearer' }).send(subscription(subscriber.url, filters));
      assert.equal(r.status, expect, r.text.slice(0, 400));
      return r.body as Subscription & { id: string };
    }
    const get = (token: string, path: string) => request(gw.app).get(path).auth(token, { type: 'bearer' });
    const eventsOf = (id: string) => subscriber.delivered.filter((n) => n.subscriptionId === id && n.type === 'event-notification');

    test('the token carries the purposes an agreement grants, in either spelling; none that no agreement grants', async () => {
      const ok = await hie.requestToken(gw, [TREAT_OID, 'http://terminology.hl7.org/CodeSystem/v3-ActReason#TREAT']);
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(decodeJwt(ok.body.access_token as string).purpose_of_use, ['TREAT']);
      const mixed = await hie.requestToken(gw, [TREAT_OID, 'urn:oid:2.16.840.1.113883.5.8#HPAYMT']);
      assert.deepEqual(decodeJwt(mixed.body.access_token as string).purpose_of_use, ['TREAT'], 'payment is not agreed: dropped');
      const refused = await network2.requestToken(gw, [TREAT_OID]);
      assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_grant']);
      const unknown = await hie.requestToken(gw, ['urn:oid:2.16.840.1.113883.5.8#MARKETING']);
      assert.deepEqual([unknown.status, unknown.body.error], [400, 'invalid_request']);
      const plain = await network2.requestToken(gw);
      assert.equal(plain.status, 200);
      assert.equal(decodeJwt(plain.body.access_token as string).purpose_of_use, undefined, 'without the extension: own organization only');
    });

    test("HIE subscribed by MRN gets Clinic A's check-in of that patient, not Clinic B's, not other patients'; Network 2 gets and reads nothing", async () => {
      const hieToken = await hie.token(gw, [TREAT_OID]);
      await subscribe(hieToken, [], 422);
      const byMrn = await subscribe(hieToken, [`Encounter?patient.identifier=${encodeURIComponent(MRN)}|MRN-1001`]);
      assert.equal(byMrn.status, 'active');
      const byIdentity = await subscribe(hieToken, [`Encounter?patient:identifier=${idp.issuer}|john`]);
      const emergencyOnly = await subscribe(hieToken, [`Encounter?patient.identifier=${MRN}|MRN-1001&class=http://terminology.hl7.org/CodeSystem/v3-ActCode|EMER`]);
      const network2Token = await network2.token(gw);
      const n2 = await subscribe(network2Token, [`Encounter?patient.identifier=${MRN}|MRN-1001`]);

      const atA = await checkIn('a', 'john');
      const atB = await checkIn('b', 'john');
      const jane = await checkIn('a', 'jane', JANE, 'MRN-2002');
      await worker.runOnce();

      for (const sub of [byMrn, byIdentity]) {
        const notes = eventsOf(sub.id);
        assert.equal(notes.length, 1, 'one event: A’s check-in of John');
        const resources = resourcesOf(notes[0]!);
        const encounter = resources.find((r) => r.resourceType === 'Encounter') as Encounter;
        assert.equal(encounter.id, atA.encounter.id);
        const patient = resources.find((r) => r.resourceType === 'Patient') as Patient;
        assert.equal(patient.name?.[0]?.family, 'Anyperson');
        assert.equal(patient.birthDate, '1951-01-20');
        assert.equal(patient.telecom, undefined, 'only the minimum: no phone');
        assert.equal((resources.find((r) => r.resourceType === 'Organization') as Organization).name, 'Clinic A');
        const text = JSON.stringify(notes[0]!.bundle);
        assert.ok(!text.includes(atB.encounter.id!) && !text.includes(jane.encounter.id!));
      }
      assert.equal(eventsOf(emergencyOnly.id).length, 0, 'the class filter still applies');
      assert.equal(eventsOf(n2.id).length, 0, 'no agreement: nothing');

      // RetrieveResource: only what the subscription's grant covers; the rest is indistinguishable from unknown.
      assert.equal((await get(hieToken, `/fhir/Encounter/${atA.encounter.id}`)).status, 200);
      const patient = await get(hieToken, `/fhir/Patient/${atA.patient.id}`);
      assert.equal(patient.status, 200);
      assert.equal(patient.body.address, undefined);
      for (const [token, path] of [
        [hieToken, `/fhir/Encounter/${atB.encounter.id}`],
        [hieToken, `/fhir/Encounter/${jane.encounter.id}`],
        [network2Token, `/fhir/Encounter/${atA.encounter.id}`],
        [network2Token, `/fhir/Patient/${atA.patient.id}`],
      ] as const) {
        const r = await get(token, path);
        const unknown = await get(token, path.replace(/[0-9a-f-]{36}$/, '00000000-0000-4000-8000-000000000000'));
        assert.equal(r.status, 404, path);
        assert.equal(r.text, unknown.text);
      }

      const replay = await get(hieToken, `/fhir/Subscription/${byMrn.id}/$events?eventsSinceNumber=1`);
      assert.equal(replay.status, 200);
      // Every disclosure is in Clinic A's trail, and John reads the ones about him.
      const trail = (await get(auditorA, '/fhir/AuditEvent?_count=1000')).body as Bundle<AuditEvent>;
      const disclosures = trail.entry!.map((e) => e.resource!).filter((a) => a.type?.code === '110106');
      assert.ok(disclosures.length >= 5, 'two notifications, two reads, one replay');
      assert.ok(trail.entry!.some((e) => e.resource!.subtype?.[0]?.code === 'disclosure.events'));
      for (const a of disclosures) {
        assert.equal(a.purposeOfEvent?.[0]?.coding?.[0]?.code, 'TREAT');
        assert.ok(a.agent.some((x) => x.who?.display === 'HIE' && x.who?.identifier?.value === 'hie'));
        assert.ok(a.entity?.some((x) => x.what?.reference === `Patient/${atA.patient.id}`));
      }
      const mine = (await get(await patientToken('john'), '/fhir/AuditEvent')).body as Bundle<AuditEvent>;
      assert.equal(mine.entry!.filter((e) => e.resource!.type?.code === '110106').length, disclosures.length);
      const janes = (await get(await patientToken('jane', JANE), '/fhir/AuditEvent')).body as Bundle<AuditEvent>;
      assert.equal(janes.entry!.filter((e) => e.resource!.type?.code === '110106').length, 0);
    });

    test('EHR encounters name the treating practitioner; appointments match by patient:identifier', async () => {
      const ehrA = await gw.clientToken({ clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/Encounter.write', 'system/Appointment.write'] });
      const hieToken = await hie.token(gw, [TREAT_OID]);
      const { patient } = await checkIn('a', 'ehr-patient', JOHN, 'MRN-4004');
      const encounters = await subscribe(hieToken, [`Encounter?patient.identifier=${MRN}|MRN-4004`]);
      const appointmentSub = await request(gw.app)
        .post('/fhir/Subscription')
        .auth(hieToken, { type: 'bearer' })
        .send({ ...subscription(subscriber.url, [`Appointment?patient:identifier=${MRN}|MRN-4004`]), criteria: TOPICS[2]!.url });
      assert.equal(appointmentSub.status, 201, appointmentSub.text);
      const post = async (resource: object) => {
        const r = await request(gw.app)
          .post(`/fhir/${(resource as { resourceType: string }).resourceType}`)
          .auth(ehrA, { type: 'bearer' })
          .send(resource);
        assert.equal(r.status, 201, r.text);
        return r.body as { id: string };
      };
      const emergency = await post({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
        subject: { reference: `Patient/${patient.id}` },
        participant: [{ individual: { reference: 'Practitioner/dr-jones', display: 'Dr. Alex Jones' } }],
      });
      const appointment = await post({
        resourceType: 'Appointment',
        status: 'booked',
        start: '2027-05-20T09:00:00Z',
        end: '2027-05-20T09:20:00Z',
        participant: [{ status: 'accepted', actor: { reference: `Patient/${patient.id}` } }],
      });
      await worker.runOnce();
      const [er, ...more] = eventsOf(encounters.id);
      assert.ok(er && more.length === 0, 'the emergency visit (the check-in came before the subscription)');
      const practitioner = resourcesOf(er).find((r) => r.resourceType === 'Practitioner');
      assert.deepEqual(practitioner, { resourceType: 'Practitioner', id: 'dr-jones', name: [{ text: 'Dr. Alex Jones' }] });
      assert.equal((resourcesOf(er).find((r) => r.resourceType === 'Encounter') as Encounter).id, emergency.id);
      const [booked] = eventsOf(appointmentSub.body.id as string);
      assert.equal(resourcesOf(booked!).find((r) => r.resourceType === 'Appointment')!.id, appointment.id);
      assert.equal((resourcesOf(booked!).find((r) => r.resourceType === 'Organization') as Organization).name, 'Clinic A');
      assert.equal((await get(hieToken, `/fhir/Appointment/${appointment.id}`)).status, 200);
    });

    test('a consented network, subscribed by the patient’s identity, gets the encounters at both clinics; after revocation, nothing more', async () => {
      assert.equal((await appNetwork.requestToken(gw, [PATRQT_URI])).body.error, 'invalid_grant', 'no consent yet');
      const john = await patientToken('consenting');
      assert.equal((await request(gw.app).post('/fhir/Consent').auth(john, { type: 'bearer' }).send(patientConsent('Unknown Org'))).status, 422);
      const created = await request(gw.app).post('/fhir/Consent').auth(john, { type: 'bearer' }).send(patientConsent('Patient App Network'));
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.patient, { identifier: { system: idp.issuer, value: 'consenting' } });
      assert.ok(created.body.dateTime);
      assert.equal(((await get(john, '/fhir/Consent')).body as Bundle).total, 1);
      const stranger = await patientToken('stranger', JANE);
      assert.equal(((await get(stranger, '/fhir/Consent')).body as Bundle).total, 0);
      assert.equal((await request(gw.app).delete(`/fhir/Consent/${created.body.id}`).auth(stranger, { type: 'bearer' })).status, 404);

      const appToken = await appNetwork.token(gw, [PATRQT_URI]);
      const sub = await subscribe(appToken, [`Encounter?patient.identifier=${idp.issuer}|consenting`]);
      const atA = await checkIn('a', 'consenting', JOHN, 'MRN-3003');
      const atB = await checkIn('b', 'consenting', JOHN, 'MRN-3003');
      await worker.runOnce();
      const notes = eventsOf(sub.id);
      assert.deepEqual(
        notes.map((n) => (resourcesOf(n).find((r) => r.resourceType === 'Encounter') as Encounter).id),
        [atA.encounter.id, atB.encounter.id],
      );
      assert.deepEqual(
        notes.map((n) => (resourcesOf(n).find((r) => r.resourceType === 'Organization') as Organization).name),
        ['Clinic A', 'Clinic B'],
      );
      assert.equal((await get(appToken, `/fhir/Encounter/${atB.encounter.id}`)).status, 200);

      const queued = await checkIn('a', 'consenting', JOHN, 'MRN-3003');
      assert.equal((await request(gw.app).delete(`/fhir/Consent/${created.body.id}`).auth(john, { type: 'bearer' })).status, 204);
      assert.equal(((await get(john, '/fhir/Consent')).body as Bundle<Consent>).entry![0]!.resource!.status, 'inactive');
      await checkIn('b', 'consenting', JOHN, 'MRN-3003');
      await worker.runOnce();
      assert.equal(eventsOf(sub.id).length, 2, 'nothing after revocation, not even the event queued before it');
      for (const id of [atA.encounter.id, atB.encounter.id, queued.encounter.id]) assert.equal((await get(appToken, `/fhir/Encounter/${id}`)).status, 404);
      const replay = await get(appToken, `/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=1`);
      assert.equal(replay.status, 200);
      const replayed = (replay.body as Bundle).entry!.flatMap((e) => (e.resource?.resourceType === 'Encounter' ? [e.resource.id] : []));
      assert.deepEqual(replayed, [atA.encounter.id, atB.encounter.id], 'the event cancelled by the revocation is not replayed either');
      const trail = (await get(john, '/fhir/AuditEvent')).body as Bundle<AuditEvent>;
      const purposes = trail
        .entry!.map((e) => e.resource!)
        .filter((a) => a.type?.code === '110106')
        .map((a) => a.purposeOfEvent?.[0]?.coding?.[0]?.code);
      assert.ok(purposes.length >= 3 && purposes.every((p) => p === 'PATRQT'), JSON.stringify(purposes));
    });

    test('bad patient filters and bad Consents are refused with an OperationOutcome, nothing stored', async () => {
      const hieToken = await hie.token(gw, [TREAT_OID]);
      const before = (await gw.services.db.query('SELECT count(*)::int AS n FROM subscription')).rows[0];
      for (const filters of [
        ['Encounter?patient.identifier=MRN-1001'],
        [`Encounter?patient.identifier=${MRN}|`],
        [`Encounter?patient.identifier=${MRN}|A`, `Encounter?patient:identifier=${MRN}|B`],
        [`Encounter?patient.identifier=${Array.from({ length: 21 }, (_, i) => `${MRN}|M${i}`).join(',')}`],
        [`Encounter?patient.name=Anyperson`],
      ]) {
        const r = await request(gw.app).post('/fhir/Subscription').auth(hieToken, { type: 'bearer' }).send(subscription(subscriber.url, filters));
        assert.equal(r.status, 422, `${filters.join(' & ')}: ${r.text.slice(0, 200)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      }
      assert.deepEqual((await gw.services.db.query('SELECT count(*)::int AS n FROM subscription')).rows[0], before);
      const john = await patientToken('bad-consents');
      const { provision: _p, ...noProvision } = patientConsent('HIE');
      const cases: [unknown, number][] = [
        [{ resourceType: 'Patient' }, 400],
        ['not json object', 400],
        [{ ...patientConsent('HIE'), status: 'inactive' }, 422],
        [noProvision, 422],
        [{ ...patientConsent('HIE'), provision: { ...patientConsent('HIE').provision, type: 'deny' } }, 422],
        [
          {
            ...patientConsent('HIE'),
            provision: { ...patientConsent('HIE').provision, purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
          },
          422,
        ],
      ];
      for (const [body, status] of cases) {
        const r = await request(gw.app)
          .post('/fhir/Consent')
          .auth(john, { type: 'bearer' })
          .send(body as object);
        assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 120)}: ${r.text.slice(0, 200)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
      }
      assert.equal(((await get(john, '/fhir/Consent')).body as Bundle).total, 0);
      assert.equal((await request(gw.app).post('/fhir/Consent').auth(hieToken, { type: 'bearer' }).send(patientConsent('HIE'))).status, 401, 'a client is not a patient');
    });

    test('the CapabilityStatement lists Consent, Patient read and the patient.identifier filter', async () => {
      const meta = (await request(gw.app).get('/fhir/metadata')).body as CapabilityStatement;
      const resources = meta.rest![0]!.resource!;
      assert.ok(resources.find((r) => r.type === 'Consent')!.interaction!.some((i) => i.code === 'create'));
      assert.ok(resources.find((r) => r.type === 'Patient')!.interaction!.some((i) => i.code === 'read'));
      assert.ok(resources.find((r) => r.type === 'Encounter')!.searchParam!.some((p) => p.name === 'patient.identifier'));
      const sub = resources.find((r) => r.type === 'Subscription')!;
      assert.deepEqual(sub.extension!.map((e) => e.valueCanonical).sort(), TOPICS.map((t) => t.url).sort(), 'topic canonicals unchanged');
      gw.services.fhir.validate(meta);
      const topic = (await request(gw.app).get('/fhir/SubscriptionTopic/encounter-start')).body as { canFilterBy: { filterParameter: string }[] };
      assert.ok(topic.canFilterBy.some((f) => f.filterParameter === 'patient.identifier'));
    });
  });
}
