import type { Module } from '../module.js';
import type { CapabilityContribution } from '../fhir/capability.js';
import { cancelConsentedEvents } from '../notifications/outbox.js';
import type { Services } from '../services.js';
import { consentRoutes } from './routes.js';

export const consentCapability: CapabilityContribution = {
  resources: [
    {
      type: 'Consent',
      documentation:
        'A patient (identity token) permits a recipient organization (provision.actor IRCP, identifier urn:ktc-gateway:organization) to receive their encounter notifications from every organization (purpose PATRQT); lists their own; DELETE revokes (nothing more is queued for that recipient and its reads answer 404)',
    },
  ],
};

export function consentModule(s: Services): Module {
  return {
    router: consentRoutes(s, (tx, c) => cancelConsentedEvents(tx, c.recipientOrganization, c.patientIssuer, c.patientSubject)),
    capability: consentCapability,
  };
}
