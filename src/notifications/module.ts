import type { Module } from '../module.js';
import type { CapabilityContribution } from '../fhir/capability.js';
import type { Services } from '../services.js';
import { BP } from './backport.js';
import { notificationRoutes } from './routes.js';
import { TOPICS } from './topics.js';

const ehrResource = (type: 'Encounter' | 'Appointment') => ({
  type,
  interaction: [{ code: 'create' as const }, { code: 'update' as const }, { code: 'read' as const }],
  updateCreate: false,
  documentation: `${type}s from the EHR (system/${type}.write to write, system/${type}.read to read); each change that fires a topic becomes a notification`,
});

/** Backport IG R4 server: topic-based Subscriptions over rest-hook, and the resources whose changes fire topics. */
export const notificationsCapability: CapabilityContribution = {
  instantiates: [BP.serverCapability],
  resources: [
    {
      type: 'Subscription',
      supportedProfile: [BP.subscriptionProfile],
      extension: TOPICS.map((t) => ({ url: BP.topicCanonical, valueCanonical: t.url })),
      interaction: [{ code: 'read' }, { code: 'create' }, { code: 'delete' }, { code: 'search-type' }],
      searchParam: [{ name: 'status', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Subscription-status' }],
      operation: [
        { name: '$status', definition: BP.statusOperation },
        { name: '$events', definition: BP.eventsOperation },
      ],
      documentation:
        'rest-hook only; payload application/fhir+json with content empty | id-only | full-resource; heartbeat, timeout (1-60 s, default 10) and max-count (1-100, default 1) honoured; every event is due within 24 h',
    },
    ehrResource('Encounter'),
    ehrResource('Appointment'),
    {
      type: 'Basic',
      interaction: [{ code: 'read' }, { code: 'search-type' }],
      searchParam: [{ name: 'code', type: 'token' }],
      documentation: 'The SubscriptionTopics served, as Basic resources with cross-version extensions (Backport IG 1.2); also at /fhir/SubscriptionTopic',
    },
  ],
};

export function notificationsModule(s: Services): Module {
  return { router: notificationRoutes(s), capability: notificationsCapability };
}
