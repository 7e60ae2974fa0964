import { Router } from 'express';
import type { Module } from '../module.js';
import type { CapabilityContribution } from '../fhir/capability.js';
import type { Services } from '../services.js';
import { BP } from './backport.js';
import { operationRoutes } from './operation-routes.js';
import { subscriptionRoutes } from './subscription-routes.js';
import { topicRoutes } from './topic-routes.js';
import { TOPICS } from './topics.js';

/** Backport IG R4 server: topic-based Subscriptions over rest-hook. */
export const notificationsCapability: CapabilityContribution = {
  instantiates: [BP.serverCapability],
  resources: [
    {
      type: 'Subscription',
      supportedProfile: [BP.subscriptionProfile],
      extension: TOPICS.map((t) => ({ url: BP.topicCanonical, valueCanonical: t.url })),
      searchParam: [{ name: 'status', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Subscription-status' }],
      operation: [
        { name: '$status', definition: BP.statusOperation },
        { name: '$events', definition: BP.eventsOperation },
      ],
      documentation:
        'rest-hook only; payload application/fhir+json with content empty | id-only | full-resource; heartbeat, timeout (1-60 s, default 10) and max-count (1-100, default 1) honoured; every event is due within 24 h. A token with a purpose of use (UDAP hl7-b2b) subscribes across organizations and must filter by patient.identifier',
    },
    {
      type: 'Basic',
      searchParam: [{ name: 'code', type: 'token' }],
      documentation: 'The SubscriptionTopics served, as Basic resources with cross-version extensions (Backport IG 1.2); also at /fhir/SubscriptionTopic',
    },
  ],
};

export function notificationsModule(s: Services): Module {
  const router = Router();
  // Operations first: `/fhir/Subscription/$status` must not be read as a Subscription id.
  router.use(topicRoutes(s), operationRoutes(s), subscriptionRoutes(s));
  return { router, capability: notificationsCapability };
}
