import type { AuditEntry } from '../audit/audit.js';
import type { OutboxEvent } from './outbox.js';
import type { StoredSubscription } from './subscription-store.js';

/**
 * One event of an organization told to another (a delivery, or a replay through $events): an
 * AuditEvent in the source organization's trail, which the patient may read too.
 */
export function disclosureAudit(
  e: OutboxEvent & { disclosure: NonNullable<OutboxEvent['disclosure']> },
  sub: Pick<StoredSubscription, 'id' | 'organization' | 'clientId' | 'payload'>,
  how: Pick<AuditEntry, 'actor' | 'subtype'> & Partial<Pick<AuditEntry, 'sourceIp' | 'requestId'>>,
): AuditEntry {
  const d = e.disclosure;
  return {
    ...how,
    action: 'E',
    organization: e.organization,
    entity: { type: e.focusType, id: e.focusId },
    ...(d.patientIssuer && d.patientSubject ? { patient: { issuer: d.patientIssuer, subject: d.patientSubject } } : {}),
    disclosure: { recipientOrganization: sub.organization, clientId: sub.clientId, purpose: d.purpose, patient: `Patient/${d.patientId}` },
    detail: { subscription: sub.id, event: e.eventNumber, payload: sub.payload },
  };
}

export function isDisclosure(e: OutboxEvent): e is OutboxEvent & { disclosure: NonNullable<OutboxEvent['disclosure']> } {
  return e.disclosure !== undefined;
}
