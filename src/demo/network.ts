import type { Consent, Subscription } from '@medplum/fhirtypes';
import { BP, type PayloadContent } from '../notifications/backport.js';
import { topicById, type Topic } from '../notifications/topics.js';

/** The encounter-start topic: a check-in's arrival Encounter fires it. */
export const ENCOUNTER_START = (topicById('encounter-start') as Topic).url;

export interface RestHookOptions {
  reason: string;
  payload: PayloadContent;
  heartbeatSeconds?: number;
  /** backport-filter-criteria values, e.g. `Encounter?patient.identifier=system|value`. */
  filters?: string[];
}

/** A backport-profile rest-hook Subscription to encounter-start (also the attack catalogues' body). */
export function restHookSubscription(endpoint: string, o: RestHookOptions): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BP.subscriptionProfile] },
    status: 'requested',
    reason: o.reason,
    criteria: ENCOUNTER_START,
    ...(o.filters?.length ? { _criteria: { extension: o.filters.map((valueString) => ({ url: BP.filterCriteria, valueString })) } } : {}),
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: BP.payloadContent, valueCode: o.payload }] },
      ...(o.heartbeatSeconds ? { extension: [{ url: BP.heartbeatPeriod, valueUnsignedInt: o.heartbeatSeconds }] } : {}),
    },
  } as Subscription;
}

/**
 * The aligned network's Subscription: full-resource payloads, so the network sees the Encounter
 * itself, for the patients it names only (a network of another organization must name them):
 * each by the verified identity the gateway binds a check-in to (identity provider issuer | sub).
 */
export function networkSubscription(endpoint: string, patients: { system: string; value: string }[]): Subscription {
  const filter = `Encounter?patient.identifier=${patients.map((p) => `${p.system}|${p.value}`).join(',')}`;
  return restHookSubscription(endpoint, { reason: 'Demo HIE: arrivals of its patients at the demo clinic', payload: 'full-resource', heartbeatSeconds: 3600, filters: [filter] });
}

/** Subscribes the network with its access token; returns the Subscription id. */
export async function subscribeNetwork(gatewayUrl: string, token: string, endpoint: string, patients: { system: string; value: string }[]): Promise<string> {
  const res = await fetch(`${gatewayUrl}/fhir/Subscription`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(networkSubscription(endpoint, patients)),
  });
  const body = (await res.json()) as Subscription;
  if (res.status !== 201 || !body.id) throw new Error(`the network's Subscription was refused: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body.id;
}

/** A patient's Consent (the contract's shape): `organization` may receive their encounter notifications, purpose PATRQT. */
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
