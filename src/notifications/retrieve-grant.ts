import type { Patient } from '@medplum/fhirtypes';
import { patientConsents } from '../consent/consent-store.js';
import type { Queryable } from '../db/db.js';
import type { ResourceOwner } from '../fhir/resource-store.js';
import { PATIENT_REQUEST, type PurposeOfUse } from '../identity/purpose-of-use.js';
import type { ClientPrincipal } from '../identity/types.js';
import type { Services } from '../services.js';
import { Agreements } from '../sharing/agreements.js';
import { findEventPatient, patientKeys, type EventPatient } from './event-subject.js';
import type { TopicResource } from './filters.js';

/** Why another organization's client may read a resource, and whose it is. */
export interface RetrieveGrant {
  purpose: PurposeOfUse;
  patient: EventPatient;
}

/** The resources a network may retrieve after a notification. */
export type RetrievableResource = TopicResource | Patient;

/** Decides RetrieveResource for a client of another organization; undefined = it may not (the caller answers 404). */
export type RetrieveGrants = (
  q: Queryable,
  client: ClientPrincipal,
  found: { resource: RetrievableResource & { id?: string }; owner: ResourceOwner },
) => Promise<RetrieveGrant | undefined>;

/**
 * RetrieveResource (Carequality Push Notifications): a network reads what it was notified of only
 * while one of its organization's active subscriptions names the patient and the token's purposes
 * are granted for it, by the source's agreement or the patient's consent.
 */
export function createRetrieveGrants(s: Pick<Services, 'config' | 'clock'>): RetrieveGrants {
  const agreements = new Agreements(s.config.trust.dataSharing);
  return async (q, client, found) => {
    const purposes = client.purposes ?? [];
    if (!purposes.length) return undefined;
    const { resource, owner } = found;
    const patient: EventPatient | undefined =
      resource.resourceType === 'Patient'
        ? {
            id: resource.id as string,
            resource,
            issuer: owner.patientIssuer,
            subject: owner.patientSubject,
            keys: patientKeys(resource, owner.patientIssuer, owner.patientSubject),
          }
        : await findEventPatient(q, owner.organization, resource);
    if (!patient?.keys.length) return undefined;
    const { rows } = await q.query<{ purposes: PurposeOfUse[] }>(
      `SELECT DISTINCT s.id, s.purposes FROM subscription_patient sp JOIN subscription s ON s.id = sp.subscription_id
        WHERE sp.patient_key = ANY($1) AND s.organization = $2 AND s.status = 'active' AND s.deleted_at IS NULL AND (s.end_at IS NULL OR s.end_at > $3)`,
      [patient.keys, client.organization, new Date(s.clock.now())],
    );
    for (const sub of rows) {
      const allowed = sub.purposes.filter((p) => purposes.includes(p));
      const agreed = agreements.grant(owner.organization, client.organization, allowed);
      if (agreed) return { purpose: agreed, patient };
      if (allowed.includes(PATIENT_REQUEST) && patient.issuer && patient.subject && (await patientConsents(q, patient.issuer, patient.subject, client.organization))) {
        return { purpose: PATIENT_REQUEST, patient };
      }
    }
    return undefined;
  };
}
