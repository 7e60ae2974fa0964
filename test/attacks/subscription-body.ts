import type { Subscription } from '@medplum/fhirtypes';
import { restHookSubscription as restHook } from '../../src/demo/network.js';

/** A minimal backport rest-hook Subscription to the first topic, id-only payloads. */
export function restHookSubscription(endpoint: string): Subscription {
  return restHook(endpoint, { reason: 'attack catalogue', payload: 'id-only' });
}
