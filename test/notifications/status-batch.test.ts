import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Parameters, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { createDeliveryWorker } from '../../src/notifications/worker.js';
import { testDatabases } from '../helpers/db.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';

const SCOPES = ['system/Subscription.read', 'system/Subscription.write', 'system/Encounter.write'];

const subscription = (endpoint: string, patient: string): Subscription =>
  ({
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: 'status batch test',
    criteria: TOPICS[0]!.url,
    _criteria: { extension: [{ url: BP.filterCriteria, valueString: `Encounter?patient=Patient/${patient}` }] },
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] } },
  }) as Subscription;

/** The delivery counts of each subscription in a $status searchset, by subscription reference. */
function counts(body: Bundle): Map<string, Record<string, number | undefined>> {
  return new Map(
    (body.entry ?? []).map((e) => {
      const p = e.resource as Parameters;
      const ref = p.parameter!.find((x) => x.name === 'subscription')!.valueReference!.reference!;
      const part = p.parameter!.find((x) => x.name === 'ktc-delivery')!.part!;
      return [ref, Object.fromEntries(part.filter((x) => x.valueInteger !== undefined).map((x) => [x.name, x.valueInteger]))];
    }),
  );
}

for (const tdb of testDatabases()) {
  describe(`type-level $status (${tdb.name})`, () => {
    let gw: TestGateway;
    let subscriber: Subscriber;

    before(async () => {
      subscriber = await startSubscriber();
      gw = await startTestGateway({ db: await tdb.open(), clock: new ManualClock(Date.parse('2026-03-02T09:00:00Z')), trust: { outboundAllowlist: ['127.0.0.1'] } });
    });
    after(async () => {
      await gw.close();
      await subscriber.close();
      await tdb.cleanup();
    });

    test('reports every subscription from one statistics query, with the figures of each instance-level $status', async () => {
      const token = await gw.clientToken({ clientId: 'ehr-batch', organization: 'Clinic Batch', scopes: SCOPES });
      const ids: string[] = [];
      for (const patient of ['a', 'b', 'c']) {
        const r = await request(gw.app).post('/fhir/Subscription').auth(token, { type: 'bearer' }).send(subscription(subscriber.url, patient));
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id as string);
      }
      for (const patient of ['a', 'a', 'b']) {
        const enc = {
          resourceType: 'Encounter',
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: `Patient/${patient}` },
        };
        assert.equal((await request(gw.app).post('/fhir/Encounter').auth(token, { type: 'bearer' }).send(enc)).status, 201);
      }
      await createDeliveryWorker(gw.services).runOnce();

      const db = gw.services.db;
      const query = db.query.bind(db);
      let statsQueries = 0;
      db.query = ((sql: string, params?: unknown[]) => {
        if (/FROM outbox o JOIN notification_event/.test(sql)) statsQueries++;
        return query(sql, params);
      }) as typeof db.query;
      let all: Bundle;
      try {
        all = (await request(gw.app).get('/fhir/Subscription/$status').auth(token, { type: 'bearer' })).body as Bundle;
      } finally {
        db.query = query;
      }
      assert.equal(statsQueries, 1);
      const batch = counts(all);
      assert.equal(batch.size, 3);
      for (const id of ids) {
        const one = counts((await request(gw.app).get(`/fhir/Subscription/${id}/$status`).auth(token, { type: 'bearer' })).body as Bundle);
        const [ref, figures] = [...one][0]!;
        assert.deepEqual(batch.get(ref), figures, ref);
      }
      assert.deepEqual([...batch.values()].map((f) => f.delivered).sort(), [0, 1, 2]);
    });
  });
}
