import type { Subscription } from '@medplum/fhirtypes';
import { restHookSubscription as restHook } from '../../src/demo/network.js';

/** A minimal backport rest-hook Subscription to the first topic, id-only payloads, with these filter criteria. */
export function restHookSubscription(endpoint: string, filters: string[] = []): Subscription {
  return restHook(endpoint, { reason: 'attack catalogue', payload: 'id-only', filters });
}
