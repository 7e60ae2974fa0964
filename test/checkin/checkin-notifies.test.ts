import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Encounter, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { createDeliveryWorker } from '../../src/notifications/worker.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';

const ENCOUNTER_START = TOPICS[0]!.url;

for (const tdb of testDatabases()) {
  describe(`a check-in notifies subscribing networks (${tdb.name})`, () => {
    let idp: Idp;
    let gw: TestGateway;
    let subscriber: Subscriber;

    before(async () => {
      idp = await startIdp();
      subscriber = await startSubscriber();
      gw = await startTestGateway({ db: await tdb.open(), trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    });
    after(async () => {
      await gw.close();
      await subscriber.close();
      await idp.close();
      await tdb.cleanup();
    });

    test('the arrival Encounter of a check-in reaches the kiosk organization’s subscriber as encounter-start', async () => {
      const network = await gw.clientToken({ clientId: 'network', organization: 'Clinic A', scopes: ['system/Subscription.write', 'system/Subscription.read'] });
      const kiosk = await gw.clientToken({ clientId: 'kiosk', organization: 'Clinic A', scopes: ['system/checkin.write'] });
      const subscription: Subscription = {
        resourceType: 'Subscription',
        meta: { profile: [BP.subscriptionProfile] },
        status: 'requested',
        reason: 'arrivals at Clinic A',
        criteria: ENCOUNTER_START,
        channel: {
          type: 'rest-hook',
          endpoint: subscriber.url,
          payload: 'application/fhir+json',
          _payload: { extension: [{ url: BP.payloadContent, valueCode: 'full-resource' }] },
        } as Subscription['channel'],
      };
      const sub = await request(gw.app).post('/fhir/Subscription').auth(network, { type: 'bearer' }).send(subscription);
      assert.equal(sub.status, 201, JSON.stringify(sub.body));

      const checkin = await request(gw.app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }), bundle: clipboardBundle() });
      assert.equal(checkin.status, 201);
      const arrival = (checkin.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Encounter')!.resource as Encounter;

      await createDeliveryWorker(gw.services).runOnce();
      assert.deepEqual(subscriber.events(sub.body.id), [1]);
      const note = subscriber.delivered.find((n) => n.subscriptionId === sub.body.id && n.type === 'event-notification')!;
      const delivered = note.bundle.entry!.map((e) => e.resource).find((r) => r?.resourceType === 'Encounter') as Encounter;
      assert.equal(delivered.id, arrival.id);
      assert.equal(delivered.status, 'arrived');
      assert.equal(delivered.subject?.reference, arrival.subject?.reference);
    });
  });
}
