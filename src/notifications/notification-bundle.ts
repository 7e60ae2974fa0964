import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { BP, SUBSCRIPTION_ERROR_SYSTEM, type PayloadContent, type SubscriptionErrorCode } from './backport.js';
import type { OutboxEvent } from './outbox.js';
import type { SubscriptionStatus } from './subscription-store.js';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export interface StatusContext {
  publicBaseUrl: string;
  subscriptionId: string;
  topic: string;
  status: SubscriptionStatus;
  type: NotificationType;
  /** events-since-subscription-start. */
  eventsSinceStart: number;
  /** Decides what each notification-event carries (and what the Bundle includes). */
  payload: PayloadContent;
  events: readonly OutboxEvent[];
  errors?: readonly { code: SubscriptionErrorCode; text: string }[];
  /** Gateway-specific status parameters ($status delivery figures), after the IG's own. */
  extra?: readonly ParametersParameter[];
}

const focusUrl = (base: string, e: OutboxEvent) => `${base}/fhir/${e.focusType}/${e.focusId}`;

/** For another organization: the Patient, sending Organization and treating Practitioners (CMS e-notification minimum). */
function contextResources(e: OutboxEvent): Resource[] {
  const c = e.disclosure?.context;
  return c ? [c.patient, c.organization, ...c.practitioners] : [];
}

const resourceUrl = (base: string, r: Resource) => `${base}/fhir/${r.resourceType}/${r.id}`;

/** The SubscriptionStatus of R4 (Parameters, profile backport-subscription-status-r4). */
export function statusParameters(c: StatusContext): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${c.publicBaseUrl}/fhir/Subscription/${c.subscriptionId}` } },
    ...(c.payload === 'empty' ? [] : [{ name: 'topic', valueCanonical: c.topic }]),
    { name: 'status', valueCode: c.status },
    { name: 'type', valueCode: c.type },
    { name: 'events-since-subscription-start', valueString: String(c.eventsSinceStart) },
    ...c.events.map((e) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.eventNumber) },
        { name: 'timestamp', valueInstant: e.occurredAt.toISOString() },
        ...(c.payload === 'empty' ? [] : [{ name: 'focus', valueReference: { reference: focusUrl(c.publicBaseUrl, e) } }]),
        ...(c.payload === 'empty' ? [] : contextResources(e).map((r) => ({ name: 'additional-context', valueReference: { reference: resourceUrl(c.publicBaseUrl, r) } }))),
      ],
    })),
    ...(c.errors ?? []).map((err) => ({
      name: 'error',
      valueCodeableConcept: { coding: [{ system: SUBSCRIPTION_ERROR_SYSTEM, code: err.code }], text: err.text },
    })),
    ...(c.extra ?? []),
  ];
  return { resourceType: 'Parameters', meta: { profile: [BP.statusProfile] }, parameter };
}

/**
 * A notification Bundle (profile backport-subscription-notification-r4): type history, the status
 * first (with the GET $status request every history entry needs), then for full-resource payloads
 * the focus resource of each event as it was when the event happened.
 */
export function notificationBundle(c: StatusContext, now: Date): Bundle {
  const entry: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: statusParameters(c),
      request: { method: 'GET', url: `${c.publicBaseUrl}/fhir/Subscription/${c.subscriptionId}/$status` },
      response: { status: '200' },
    },
  ];
  if (c.payload === 'full-resource') {
    for (const e of c.events) {
      const created = e.interaction === 'create';
      entry.push({
        fullUrl: focusUrl(c.publicBaseUrl, e),
        ...(e.resource ? { resource: e.resource as Resource } : {}),
        request: { method: created ? 'POST' : 'PUT', url: created ? e.focusType : `${e.focusType}/${e.focusId}` },
        response: { status: created ? '201' : '200' },
      });
    }
  }
  if (c.payload !== 'empty') {
    // id-only names them (fullUrl, no resource), full-resource carries them; once each per Bundle.
    const seen = new Set<string>();
    for (const r of c.events.flatMap(contextResources)) {
      const fullUrl = resourceUrl(c.publicBaseUrl, r);
      if (seen.has(fullUrl)) continue;
      seen.add(fullUrl);
      entry.push({
        fullUrl,
        ...(c.payload === 'full-resource' ? { resource: r } : {}),
        request: { method: 'GET', url: `${r.resourceType}/${r.id}` },
        response: { status: '200' },
      });
    }
  }
  return { resourceType: 'Bundle', id: randomUUID(), meta: { profile: [BP.notificationProfile] }, type: 'history', timestamp: now.toISOString(), entry };
}

/** $status's answer: a searchset of status Parameters, one per subscription. */
export function statusSearchset(statuses: Parameters[], now: Date): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: now.toISOString(),
    total: statuses.length,
    entry: statuses.map((resource) => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource, search: { mode: 'match' } })),
  };
}
