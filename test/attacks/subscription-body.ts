import type { Subscription } from '@medplum/fhirtypes';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';

/** A minimal backport rest-hook Subscription to the first topic, id-only payloads, with these filter criteria. */
export function restHookSubscription(endpoint: string, filters: string[] = []): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: 'attack catalogue',
    criteria: TOPICS[0]!.url,
    ...(filters.length ? { _criteria: { extension: filters.map((valueString) => ({ url: BP.filterCriteria, valueString })) } } : {}),
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] } },
  } as Subscription;
}
