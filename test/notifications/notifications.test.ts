import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, CapabilityStatement, Encounter, OperationOutcome, Parameters, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { BP } from '../../src/notifications/backport.js';
import { createNotifier } from '../../src/notifications/notifier.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/notifications/worker.js';
import { testDatabases } from '../helpers/db.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseNotification, startSubscriber, type Subscriber } from '../helpers/subscriber.js';

const [START, END, APPOINTMENT] = TOPICS.map((t) => t.url) as [string, string, string];
const SCOPES = ['system/Subscription.read', 'system/Subscription.write', 'system/Encounter.write', 'system/Encounter.read', 'system/Appointment.write'];
const SECRET_HEADER = 'Authorization: Bearer subscriber-secret-7f3a';

interface SubOptions {
  topic?: string;
  payload?: string;
  filters?: string[];
  heartbeat?: number;
  timeout?: number;
  maxCount?: number;
  header?: string[];
  endpoint?: string;
  channelType?: string;
  contentType?: string;
}

function subscriptionBody(endpoint: string, o: SubOptions = {}): Subscription {
  const ext = [
    ...(o.heartbeat !== undefined ? [{ url: BP.heartbeatPeriod, valueUnsignedInt: o.heartbeat }] : []),
    ...(o.timeout !== undefined ? [{ url: BP.timeout, valueUnsignedInt: o.timeout }] : []),
    ...(o.maxCount !== undefined ? [{ url: BP.maxCount, valuePositiveInt: o.maxCount }] : []),
  ];
  return {
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: 'test subscription',
    criteria: o.topic ?? START,
    ...(o.filters ? { _criteria: { extension: o.filters.map((valueString) => ({ url: BP.filterCriteria, valueString })) } } : {}),
    channel: {
      type: (o.channelType ?? 'rest-hook') as 'rest-hook',
      endpoint: o.endpoint ?? endpoint,
      payload: o.contentType ?? 'application/fhir+json',
      _payload: { extension: [{ url: BP.payloadContent, valueCode: o.payload ?? 'id-only' }] },
      ...(o.header ? { header: o.header } : {}),
      ...(ext.length ? { extension: ext } : {}),
    },
  } as Subscription;
}

function encounter(status: Encounter['status'], patient = 'p1', extra: Partial<Encounter> = {}): Encounter {
  return {
    resourceType: 'Encounter',
    status,
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patient}` },
    ...extra,
  };
}

for (const tdb of testDatabases()) {
  describe(`encounter notifications (${tdb.name})`, () => {
    let gw: TestGateway;
    let clock: ManualClock;
    let subscriber: Subscriber;
    let worker: DeliveryWorker;
    let orgs = 0;

    before(async () => {
      subscriber = await startSubscriber();
      clock = new ManualClock(Date.parse('2026-03-02T09:00:00Z'));
      gw = await startTestGateway({ db: await tdb.open(), clock, trust: { outboundAllowlist: ['127.0.0.1'] } });
      worker = createDeliveryWorker(gw.services);
    });
    after(async () => {
      await gw.close();
      await subscriber.close();
      await tdb.cleanup();
    });

    /** Each test is its own organization, so subscriptions of one never hear another's events. */
    function tenant() {
      const organization = `Clinic ${++orgs}`;
      const token = () => gw.clientToken({ clientId: `ehr-${orgs}`, organization, scopes: SCOPES });
      const api = {
        organization,
        async subscribe(o: SubOptions = {}, expectStatus = 201) {
          const r = await request(gw.app)
            .post('/fhir/Subscription')
            .auth(await token(), { type: 'bearer' })
            .send(subscriptionBody(subscriber.url, o));
          assert.equal(r.status, expectStatus, JSON.stringify(r.body));
          return r.body as Subscription & { issue: OperationOutcome['issue'] };
        },
        async post(resource: object) {
          const type = (resource as { resourceType: string }).resourceType;
          const r = await request(gw.app)
            .post(`/fhir/${type}`)
            .auth(await token(), { type: 'bearer' })
            .send(resource);
          assert.equal(r.status, 201, JSON.stringify(r.body));
          return r.body as { id: string } & Record<string, unknown>;
        },
        async put(resource: { resourceType: string; id?: string } & Record<string, unknown>, expectStatus = 200) {
          const r = await request(gw.app)
            .put(`/fhir/${resource.resourceType}/${resource.id}`)
            .auth(await token(), { type: 'bearer' })
            .send(resource);
          assert.equal(r.status, expectStatus, JSON.stringify(r.body));
          return r.body as Record<string, unknown>;
        },
        async get(path: string) {
          return request(gw.app)
            .get(path)
            .auth(await token(), { type: 'bearer' });
        },
        async status(id: string) {
          const r = await api.get(`/fhir/Subscription/${id}/$status`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const params = (r.body as Bundle).entry![0]!.resource as Parameters;
          const delivery = params.parameter!.find((p) => p.name === 'ktc-delivery')!.part!;
          return {
            params,
            status: params.parameter!.find((p) => p.name === 'status')!.valueCode,
            error: params.parameter!.find((p) => p.name === 'error')?.valueCodeableConcept,
            count: (name: string) => delivery.find((p) => p.name === name)?.valueInteger,
          };
        },
      };
      return api;
    }

    test('topics are served as SubscriptionTopic and Basic, and listed in the CapabilityStatement', async () => {
      const meta = (await request(gw.app).get('/fhir/metadata')).body as CapabilityStatement;
      assert.ok(meta.instantiates?.includes(BP.serverCapability));
      const sub = meta.rest![0]!.resource!.find((r) => r.type === 'Subscription')!;
      assert.deepEqual(sub.supportedProfile, [BP.subscriptionProfile]);
      assert.deepEqual(sub.extension!.map((e) => e.valueCanonical).sort(), [...TOPICS.map((t) => t.url)].sort());
      assert.deepEqual(sub.operation!.map((o) => o.name).sort(), ['$events', '$status']);
      for (const type of ['Encounter', 'Appointment']) {
        const codes = meta.rest![0]!.resource!.find((r) => r.type === type)!.interaction!.map((i) => i.code);
        assert.ok(codes.includes('create') && codes.includes('update'), type);
      }
      gw.services.fhir.validate(meta);

      const topics = (await request(gw.app).get('/fhir/SubscriptionTopic')).body as Bundle;
      assert.equal(topics.total, 3);
      const one = await request(gw.app).get(`/fhir/SubscriptionTopic?url=${encodeURIComponent(START)}`);
      assert.equal((one.body as Bundle).entry![0]!.resource!.id, 'encounter-start');
      const basics = (await request(gw.app).get('/fhir/Basic?code=SubscriptionTopic')).body as Bundle;
      assert.equal(basics.total, 3);
      for (const e of basics.entry!) gw.services.fhir.validate(e.resource!);
      assert.equal((await request(gw.app).get('/fhir/Basic/encounter-end')).status, 200);
      assert.equal((await request(gw.app).get('/fhir/SubscriptionTopic/nope')).status, 404);
    });

    test('handshake activates the subscription; a failing endpoint leaves it in error', async () => {
      const t = tenant();
      const before = subscriber.requests;
      const sub = await t.subscribe({ header: [SECRET_HEADER] });
      assert.equal(sub.status, 'active');
      assert.match(String(sub.id), /^[0-9a-f-]{36}$/);
      assert.deepEqual(sub.channel.header, ['Authorization: [redacted]'], 'stored credentials are not echoed back');
      const hs = subscriber.delivered.find((n) => n.subscriptionId === sub.id)!;
      assert.equal(subscriber.requests, before + 1);
      assert.equal(hs.type, 'handshake');
      assert.equal(hs.status, 'requested');
      assert.equal(hs.eventsSinceStart, 0);
      assert.equal(hs.headers.authorization, 'Bearer subscriber-secret-7f3a');
      assert.equal(hs.headers['content-type'], 'application/fhir+json');
      assert.equal(hs.bundle.type, 'history');
      gw.services.fhir.validate(hs.bundle);

      subscriber.setMode({ status: 503 });
      try {
        const failed = await t.subscribe();
        assert.equal(failed.status, 'error');
        assert.match(String(failed.error), /handshake failed: HTTP 503/);
      } finally {
        subscriber.setMode({ status: 200 });
      }
      const logs = JSON.stringify(gw.logs);
      assert.ok(!logs.includes('subscriber-secret-7f3a'), 'subscriber credentials never reach the log');
    });

    test('subscriptions the gateway will not honour are refused with an OperationOutcome', async () => {
      const t = tenant();
      const cases: [string, SubOptions | object, number, RegExp, string?][] = [
        ['plain http to a host not allowlisted', { endpoint: 'http://127.0.0.2:9/hook' }, 422, /https/, 'Subscription.channel.endpoint'],
        ['https to a private address', { endpoint: 'https://10.20.30.40/hook' }, 422, /not an allowed destination/, 'Subscription.channel.endpoint'],
        ['an unknown topic', { topic: 'http://example.org/SubscriptionTopic/nope' }, 422, /topic this server offers/, 'Subscription.criteria'],
        ['a bad payload code', { payload: 'everything' }, 422, /empty \| id-only \| full-resource/],
        ['an XML payload', { contentType: 'application/fhir+xml' }, 422, /application\/fhir\+json/],
        ['a websocket channel', { channelType: 'websocket' }, 422, /rest-hook/],
        ['an unknown filter', { filters: ['Encounter?colour=blue'] }, 422, /colour/, 'Subscription.criteria.extension[0]'],
        ['a filter on another resource type', { filters: ['Observation?patient=Patient/1'] }, 422, /Encounter/],
        ['a timeout beyond 60 s', { timeout: 600 }, 422, /backport-timeout/],
        ['a reserved header', { header: ['Host: evil.example'] }, 422, /Host/],
      ];
      for (const [what, o, status, diag, expression] of cases) {
        const oo = await t.subscribe(o as SubOptions, status);
        assert.equal(String(oo.resourceType), 'OperationOutcome', what);
        assert.ok(
          oo.issue.some((i) => diag.test(String(i.diagnostics))),
          `${what}: ${JSON.stringify(oo.issue)}`,
        );
        if (expression)
          assert.ok(
            oo.issue.some((i) => i.expression?.includes(expression)),
            `${what}: expression`,
          );
      }
      const noReason = { ...subscriptionBody(subscriber.url), reason: undefined };
      const r1 = await request(gw.app)
        .post('/fhir/Subscription')
        .auth(await gw.clientToken({ clientId: 'x', organization: t.organization, scopes: SCOPES }), { type: 'bearer' })
        .send(noReason);
      assert.equal(r1.status, 422, 'the base R4 rules apply (reason is required)');
      const r2 = await request(gw.app)
        .post('/fhir/Subscription')
        .auth(await gw.clientToken({ clientId: 'x', organization: t.organization, scopes: SCOPES }), { type: 'bearer' })
        .send({ hello: 1 });
      assert.equal(r2.status, 400);
      const r3 = await request(gw.app).post('/fhir/Subscription').send(subscriptionBody(subscriber.url));
      assert.equal(r3.status, 401);
      const { rows } = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription WHERE organization = $1', [t.organization]);
      assert.equal(rows[0]!.n, 0, 'nothing refused was stored');
    });

    test('full-resource, id-only and empty payloads', async () => {
      const t = tenant();
      const full = await t.subscribe({ payload: 'full-resource' });
      const idOnly = await t.subscribe({ payload: 'id-only' });
      const empty = await t.subscribe({ payload: 'empty' });
      const enc = await t.post(encounter('in-progress'));
      await worker.runOnce();
      const got = (id?: string) => subscriber.delivered.find((n) => n.subscriptionId === id && n.type === 'event-notification')!;
      const base = gw.services.config.publicBaseUrl;

      const f = got(full.id);
      assert.deepEqual(f.eventNumbers, [1]);
      assert.equal(f.eventsSinceStart, 1);
      assert.deepEqual(f.focus, [`${base}/fhir/Encounter/${enc.id}`]);
      assert.equal(f.bundle.entry!.length, 2);
      assert.equal(f.bundle.entry![0]!.request!.url, `${base}/fhir/Subscription/${full.id}/$status`);
      const res = f.bundle.entry![1]!;
      assert.equal(res.resource!.id, enc.id);
      assert.equal((res.resource as Encounter).status, 'in-progress');
      assert.deepEqual(res.request, { method: 'POST', url: 'Encounter' });
      const statusParams = f.bundle.entry![0]!.resource as Parameters;
      assert.equal(statusParams.parameter!.find((p) => p.name === 'topic')!.valueCanonical, START);
      gw.services.fhir.validate(f.bundle);

      const i = got(idOnly.id);
      assert.deepEqual(i.focus, [`${base}/fhir/Encounter/${enc.id}`]);
      assert.equal(i.bundle.entry!.length, 1);

      const e = got(empty.id);
      assert.deepEqual(e.eventNumbers, [1]);
      assert.deepEqual(e.focus, []);
      assert.equal(e.bundle.entry!.length, 1);
      assert.equal(
        (e.bundle.entry![0]!.resource as Parameters).parameter!.find((p) => p.name === 'topic'),
        undefined,
      );
      assert.ok(!JSON.stringify(e.bundle).includes(enc.id), 'an empty notification names no resource');
    });

    test('start, end and appointment topics fire on the right changes; filters and tenants narrow them', async () => {
      const t = tenant();
      const other = tenant();
      const start = await t.subscribe({ topic: START });
      const end = await t.subscribe({ topic: END });
      const appt = await t.subscribe({ topic: APPOINTMENT });
      const p2 = await t.subscribe({ topic: START, filters: ['Encounter?patient=Patient/p2'] });
      const org = await t.subscribe({ topic: START, filters: ['service-provider=Organization/east&status=arrived'] });
      const foreign = await other.subscribe({ topic: START });

      const planned = await t.post(encounter('planned', 'p1'));
      await t.put({ ...encounter('in-progress', 'p1'), id: planned.id }); // start (1)
      await t.put({ ...encounter('in-progress', 'p1'), id: planned.id }); // no change of state
      await t.put({ ...encounter('finished', 'p1'), id: planned.id }); // end (1)
      await t.post(encounter('arrived', 'p2')); // start (2), p2 filter (1)
      await t.post(encounter('arrived', 'p3', { serviceProvider: { reference: 'Organization/east' } })); // start (3), org filter (1)
      const slot = { start: '2026-03-09T14:00:00Z', end: '2026-03-09T14:20:00Z' };
      const ap = await t.post({ resourceType: 'Appointment', status: 'booked', ...slot, participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }] });
      await t.put({ ...(ap as object), resourceType: 'Appointment', id: ap.id }); // unchanged: nothing
      await t.put({ resourceType: 'Appointment', id: ap.id, status: 'cancelled', ...slot, participant: [{ actor: { reference: 'Patient/p1' }, status: 'declined' }] });
      await worker.runOnce();

      assert.deepEqual(subscriber.events(start.id!), [1, 2, 3]);
      assert.deepEqual(subscriber.events(end.id!), [1]);
      assert.deepEqual(subscriber.events(appt.id!), [1, 2]);
      assert.deepEqual(subscriber.events(p2.id!), [1]);
      assert.deepEqual(subscriber.events(org.id!), [1]);
      assert.deepEqual(subscriber.events(foreign.id!), [], 'another organization hears nothing');

      await t.put({ ...encounter('in-progress'), id: 'not-there' }, 404);
      const stranger = await other.get(`/fhir/Encounter/${planned.id}`);
      assert.equal(stranger.status, 404, 'another organization cannot read the encounter');
      assert.equal((await t.get(`/fhir/Encounter/${planned.id}`)).status, 200);
      const bad = await request(gw.app)
        .post('/fhir/Encounter')
        .auth(await gw.clientToken({ clientId: 'x', organization: t.organization, scopes: SCOPES }), { type: 'bearer' })
        .send({ resourceType: 'Encounter', status: 'bogus' });
      assert.equal(bad.status, 422);
    });

    test('events of a subscription are numbered 1..N and delivered in order, several per notification with max-count', async () => {
      const t = tenant();
      const one = await t.subscribe();
      const batched = await t.subscribe({ maxCount: 4 });
      for (let i = 0; i < 10; i++) await t.post(encounter('in-progress', `p${i}`));
      await worker.runOnce();
      assert.deepEqual(subscriber.events(one.id!), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const notes = subscriber.delivered.filter((n) => n.subscriptionId === batched.id && n.type === 'event-notification');
      assert.deepEqual(
        notes.map((n) => n.eventNumbers),
        [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
          [9, 10],
        ],
      );
      assert.deepEqual(
        notes.map((n) => n.eventsSinceStart),
        [4, 8, 10],
      );
      const st = await t.status(one.id!);
      assert.equal(st.count('delivered'), 10);
      assert.equal(st.count('pending'), 0);
    });

    test('retries 5xx with backoff, keeps order behind a failing event, and respects Retry-After', async () => {
      const t = tenant();
      const sub = await t.subscribe();
      subscriber.setMode({ status: 500 });
      try {
        await t.post(encounter('in-progress', 'a'));
        await worker.runOnce();
        await t.post(encounter('in-progress', 'b'));
        await worker.runOnce(); // event 1 is backing off; event 2 must wait behind it
        let st = await t.status(sub.id!);
        assert.equal(st.count('pending'), 2);
        assert.equal(st.error?.coding?.[0]?.code, 'error-response');
        assert.match(String(st.error?.text), /HTTP 500/);
        clock.advance(1100);
        await worker.runOnce(); // second attempt, fails again
        subscriber.setMode({ status: 200 });
        clock.advance(2100);
        await worker.runOnce();
        assert.deepEqual(subscriber.events(sub.id!), [1, 2]);
        st = await t.status(sub.id!);
        assert.equal(st.count('delivered'), 2);
        assert.equal(st.error, undefined, 'a delivery clears the last error');

        subscriber.setMode({ status: 503, headers: { 'retry-after': '120' } });
        await t.post(encounter('in-progress', 'c'));
        await worker.runOnce();
        subscriber.setMode({ status: 200 });
        clock.advance(60_000);
        await worker.runOnce();
        assert.deepEqual(subscriber.events(sub.id!), [1, 2], 'not before Retry-After');
        clock.advance(61_000);
        await worker.runOnce();
        assert.deepEqual(subscriber.events(sub.id!), [1, 2, 3]);
      } finally {
        subscriber.setMode({ status: 200 });
      }
    });

    test('rides out an outage: refused connections and a hanging endpoint', async () => {
      const t = tenant();
      const sub = await t.subscribe({ timeout: 1 });
      await subscriber.refuse();
      try {
        await t.post(encounter('in-progress'));
        await worker.runOnce();
        assert.match(String((await t.status(sub.id!)).error?.text), /connection failed/);
      } finally {
        await subscriber.accept();
      }
      subscriber.setMode('hang');
      try {
        clock.advance(1100);
        await worker.runOnce(); // times out after 1 s
        assert.match(String((await t.status(sub.id!)).error?.text), /no answer within 1 s/);
      } finally {
        subscriber.setMode({ status: 200 });
      }
      clock.advance(2100);
      await worker.runOnce();
      assert.deepEqual(subscriber.events(sub.id!), [1]);
    });

    test('4xx answers fail that event after a few tries; later events still go', async () => {
      const t = tenant();
      const sub = await t.subscribe();
      subscriber.setMode({ status: 400 });
      try {
        await t.post(encounter('in-progress', 'a'));
        await t.post(encounter('in-progress', 'b'));
        for (let i = 0; i < 3; i++) {
          await worker.runOnce();
          if (i === 2) subscriber.setMode({ status: 200 });
          clock.advance(5000);
        }
        await worker.runOnce();
      } finally {
        subscriber.setMode({ status: 200 });
      }
      assert.deepEqual(subscriber.events(sub.id!), [2]);
      const st = await t.status(sub.id!);
      assert.equal(st.count('failed'), 1);
      assert.equal(st.status, 'active');
    });

    test('heartbeats when idle', async () => {
      const t = tenant();
      const sub = await t.subscribe({ heartbeat: 60 });
      await worker.runOnce();
      const beats = () => subscriber.delivered.filter((n) => n.subscriptionId === sub.id && n.type === 'heartbeat');
      assert.equal(beats().length, 0);
      await t.post(encounter('in-progress'));
      await worker.runOnce();
      clock.advance(61_000);
      await worker.runOnce();
      await worker.runOnce();
      assert.equal(beats().length, 1);
      assert.equal(beats()[0]!.eventsSinceStart, 1);
      assert.equal(beats()[0]!.status, 'active');
      assert.deepEqual(beats()[0]!.eventNumbers, []);
    });

    test('$events replays by event number; $status reports the subscription', async () => {
      const t = tenant();
      const sub = await t.subscribe({ payload: 'id-only' });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await t.post(encounter('in-progress', `p${i}`))).id);
      await worker.runOnce();
      const r = await t.get(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=2&eventsUntilNumber=4`);
      assert.equal(r.status, 200);
      const replay = parseNotification(r.body as Bundle, {});
      assert.equal(replay.type, 'query-event');
      assert.equal(replay.bundle.type, 'history');
      assert.deepEqual(replay.eventNumbers, [2, 3, 4]);
      assert.equal(replay.eventsSinceStart, 5);
      assert.ok(replay.focus[0]!.endsWith(`/Encounter/${ids[1]}`));
      const full = await request(gw.app)
        .post(`/fhir/Subscription/${sub.id}/$events`)
        .auth(await gw.clientToken({ clientId: 'x', organization: t.organization, scopes: SCOPES }), { type: 'bearer' })
        .send({
          resourceType: 'Parameters',
          parameter: [
            { name: 'eventsSinceNumber', valueString: '5' },
            { name: 'content', valueCode: 'full-resource' },
          ],
        });
      assert.equal(full.status, 200);
      assert.equal((full.body as Bundle).entry![1]!.resource!.id, ids[4]);
      assert.equal((await t.get(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=zero`)).status, 400);

      const st = await t.status(sub.id!);
      assert.equal(st.params.parameter!.find((p) => p.name === 'type')!.valueCode, 'query-status');
      assert.equal(st.params.parameter!.find((p) => p.name === 'events-since-subscription-start')!.valueString, '5');
      assert.equal(st.count('delivered'), 5);
      const all = await t.get('/fhir/Subscription/$status?status=active');
      assert.equal((all.body as Bundle).total, 1);
    });

    test('an event past its 24 h deadline is reported late when delivered, failed (subscription in error) when the endpoint kept failing', async () => {
      const t = tenant();
      const late = await t.subscribe();
      await subscriber.refuse();
      try {
        await t.post(encounter('in-progress', 'late'));
        clock.advance(25 * 3600_000);
      } finally {
        await subscriber.accept();
      }
      await worker.runOnce();
      assert.deepEqual(subscriber.events(late.id!), [1]);
      let st = await t.status(late.id!);
      assert.equal(st.count('late'), 1);
      assert.equal(st.count('delivered'), 0);

      const doomed = await t.subscribe();
      subscriber.setMode({ status: 502 });
      try {
        await t.post(encounter('in-progress', 'doomed'));
        await worker.runOnce();
        clock.advance(25 * 3600_000);
        await worker.runOnce();
      } finally {
        subscriber.setMode({ status: 200 });
      }
      st = await t.status(doomed.id!);
      assert.equal(st.status, 'error');
      assert.equal(st.count('failed'), 1);
      assert.equal(st.count('pending'), 0);
      assert.match(String(st.error?.text), /not delivered by its deadline .* HTTP 502/);
      const read = await t.get(`/fhir/Subscription/${doomed.id}`);
      assert.equal((read.body as Subscription).status, 'error');
      assert.match(String((read.body as Subscription).error), /deadline/);
      await t.post(encounter('in-progress', 'after'));
      await worker.runOnce();
      assert.deepEqual(subscriber.events(doomed.id!), [], 'a subscription in error is not delivered to');
      assert.equal((await t.status(doomed.id!)).params.parameter!.find((p) => p.name === 'events-since-subscription-start')!.valueString, '2', 'events keep being counted');

      const metrics = (await request(gw.app).get('/metrics')).text;
      assert.match(metrics, /notifications_events\{state="late"\} [1-9]/);
      assert.match(metrics, /notifications_events\{state="failed"\} [1-9]/);
      assert.match(metrics, /notifications_events\{state="pending"\} \d/);
      assert.match(metrics, /notifications_time_to_delivery_seconds_count [1-9]/);
    });

    test('only its organization can read or delete a subscription; unsubscribing stops delivery', async () => {
      const t = tenant();
      const other = tenant();
      const sub = await t.subscribe();
      for (const path of [`/fhir/Subscription/${sub.id}`, `/fhir/Subscription/${sub.id}/$status`, `/fhir/Subscription/${sub.id}/$events`]) {
        assert.equal((await other.get(path)).status, 404, path);
      }
      const otherToken = await gw.clientToken({ clientId: 'o', organization: other.organization, scopes: SCOPES });
      assert.equal((await request(gw.app).delete(`/fhir/Subscription/${sub.id}`).auth(otherToken, { type: 'bearer' })).status, 404);
      assert.equal(((await other.get('/fhir/Subscription')).body as Bundle).total, 0);
      assert.equal(((await t.get('/fhir/Subscription')).body as Bundle).total, 1);

      subscriber.setMode({ status: 500 });
      await t.post(encounter('in-progress'));
      await worker.runOnce();
      subscriber.setMode({ status: 200 });
      const token = await gw.clientToken({ clientId: 't', organization: t.organization, scopes: SCOPES });
      assert.equal((await request(gw.app).delete(`/fhir/Subscription/${sub.id}`).auth(token, { type: 'bearer' })).status, 204);
      await t.post(encounter('in-progress'));
      clock.advance(5000);
      await worker.runOnce();
      assert.deepEqual(subscriber.events(sub.id!), [], 'nothing is delivered after unsubscribing');
      assert.equal((await t.get(`/fhir/Subscription/${sub.id}`)).status, 410);
    });

    test('two workers on one database never deliver one subscription concurrently, and keep its order', async () => {
      const t = tenant();
      const subs = [await t.subscribe(), await t.subscribe()];
      for (let i = 0; i < 30; i++) await t.post(encounter('in-progress', `p${i}`));
      subscriber.setDelay(2);
      try {
        const second = createDeliveryWorker(gw.services);
        await Promise.all([worker.runOnce(), second.runOnce(), worker.runOnce(), second.runOnce()]);
      } finally {
        subscriber.setDelay(0);
      }
      for (const s of subs) {
        assert.deepEqual(
          subscriber.events(s.id!),
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
        assert.equal(subscriber.maxConcurrent(s.id!), 1);
      }
    });

    test('the check-in hook records encounter-start in the caller transaction', async () => {
      const t = tenant();
      const sub = await t.subscribe({ payload: 'full-resource', filters: ['patient=Patient/checked-in'] });
      const enc: Encounter = { ...encounter('arrived', 'checked-in'), id: '6f7f4f0e-5a2b-4d0a-9b7e-2f1c3d4e5f60', serviceProvider: { display: t.organization } };
      await assert.rejects(
        gw.services.db.transaction(async (tx) => {
          await createNotifier(gw.services).onEncounterStart(tx, { organization: t.organization, encounter: enc, occurredAt: new Date(clock.now()) });
          throw new Error('check-in failed later in the transaction');
        }),
      );
      await gw.services.db.transaction((tx) =>
        createNotifier(gw.services).onEncounterStart(tx, { organization: t.organization, encounter: enc, occurredAt: new Date(clock.now()) }),
      );
      await worker.runOnce();
      assert.deepEqual(subscriber.events(sub.id!), [1], 'the rolled-back event left no number behind');
      const n = subscriber.delivered.find((x) => x.subscriptionId === sub.id && x.type === 'event-notification')!;
      assert.equal(n.bundle.entry![1]!.resource!.id, enc.id);
    });

    // Last: it moves the clock a month on.
    test('settled events are kept 30 days for replay, then pruned; numbering carries on', async () => {
      const t = tenant();
      const sub = await t.subscribe({ payload: 'full-resource' });
      await t.post(encounter('in-progress'));
      await worker.runOnce();
      const replay = async () => parseNotification((await t.get(`/fhir/Subscription/${sub.id}/$events`)).body as Bundle, {}).eventNumbers;
      clock.advance(29 * 24 * 3600_000);
      await worker.runOnce();
      assert.deepEqual(await replay(), [1]);
      clock.advance(3 * 24 * 3600_000);
      await worker.runOnce();
      assert.deepEqual(await replay(), []);
      const { rows } = await gw.services.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_event WHERE organization = $1`, [t.organization]);
      assert.equal(rows[0]!.n, 0, 'the stored resource copy is gone too');
      await t.post(encounter('in-progress'));
      await worker.runOnce();
      assert.deepEqual(subscriber.events(sub.id!), [1, 2]);
    });
  });
}
