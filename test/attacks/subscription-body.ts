import type { Subscription } from '@medplum/fhirtypes';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';

/** A minimal backport rest-hook Subscription to the first topic, id-only payloads. */
export function restHookSubscription(endpoint: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: 'attack catalogue',
    criteria: TOPICS[0]!.url,
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] } },
  } as Subscription;
}
