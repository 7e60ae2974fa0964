import type { Consent, Subscription } from '@medplum/fhirtypes';
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

/** A patient's Consent (API.md shape) letting `organization` receive their encounter notifications. */
export function patientConsent(organization: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'PATRQT' }],
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { identifier: { system: 'urn:ktc-gateway:organization', value: organization } },
        },
      ],
    },
  };
}
