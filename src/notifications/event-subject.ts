import { createHash } from 'node:crypto';
import type { Appointment, Encounter, Organization, Patient, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';
import type { TopicResource } from './filters.js';

/** The stored Patient an event is about: what subscriptions match it by, and who may consent for it. */
export interface EventPatient {
  id: string;
  resource: Patient;
  /** Verified identity, when the Patient came from a check-in. */
  issuer: string | undefined;
  subject: string | undefined;
  /** `system|value` of every identifier, and of the verified identity (issuer|sub). */
  keys: string[];
}

/** What another organization receives beside the focus (CMS e-notification minimum): Patient, sending Organization, treating Practitioners. */
export interface DisclosureContext {
  patient: Patient;
  organization: Organization;
  practitioners: Practitioner[];
}

const localId = (reference: string | undefined, type: string): string | undefined =>
  reference ? new RegExp(`^(?:.*/)?${type}/([A-Za-z0-9.-]{1,64})(?:/_history/[^/]+)?$`).exec(reference)?.[1] : undefined;

function patientReferences(r: TopicResource): (string | undefined)[] {
  return r.resourceType === 'Encounter' ? [(r as Encounter).subject?.reference] : ((r as Appointment).participant ?? []).map((p) => p.actor?.reference);
}

/** `system|value` keys of a Patient and its verified identity, as subscriptions name them. */
export function patientKeys(patient: Patient, issuer: string | undefined, subject: string | undefined): string[] {
  const keys = (patient.identifier ?? []).flatMap((i) => (i.system && i.value ? [`${i.system}|${i.value}`] : []));
  if (issuer && subject) keys.push(`${issuer}|${subject}`);
  return [...new Set(keys)];
}

/**
 * The first Patient the resource refers to (Encounter.subject, an Appointment's participants) that
 * the organization holds. A reference to a Patient held by another organization resolves to
 * nothing: an EHR cannot borrow another tenant's patient.
 */
export async function findEventPatient(q: Queryable, organization: string, resource: TopicResource): Promise<EventPatient | undefined> {
  const ids = patientReferences(resource).flatMap((ref) => localId(ref, 'Patient') ?? []);
  if (ids.length === 0) return undefined;
  const { rows } = await q.query<{ id: string; content: Patient; patient_issuer: string | null; patient_subject: string | null }>(
    `SELECT id, content, patient_issuer, patient_subject FROM fhir_resource WHERE resource_type = 'Patient' AND id = ANY($1) AND organization = $2`,
    [ids, organization],
  );
  const row = ids.map((id) => rows.find((r) => r.id === id)).find((r) => r !== undefined);
  if (!row) return undefined;
  const issuer = row.patient_issuer ?? undefined;
  const subject = row.patient_subject ?? undefined;
  return { id: row.id, resource: row.content, issuer, subject, keys: patientKeys(row.content, issuer, subject) };
}

/** A stable FHIR id for an organization known only by its configured name. */
export function organizationId(name: string): string {
  return `org-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

function practitionersOf(resource: TopicResource): Practitioner[] {
  const refs: Reference[] =
    resource.resourceType === 'Encounter'
      ? ((resource as Encounter).participant ?? []).flatMap((p) => (p.individual ? [p.individual as Reference] : []))
      : ((resource as Appointment).participant ?? []).flatMap((p) => (p.actor ? [p.actor as Reference] : []));
  return refs
    .filter((r) => r.display && (r.reference === undefined || localId(r.reference, 'Practitioner')))
    .map((r) => ({
      resourceType: 'Practitioner',
      id:
        localId(r.reference, 'Practitioner') ??
        `prac-${createHash('sha256')
          .update(r.display as string)
          .digest('hex')
          .slice(0, 32)}`,
      name: [{ text: r.display as string }],
    }));
}

/** What another organization sees of a Patient: name, birth date and identifiers, nothing more. */
export function disclosedPatient(patient: EventPatient): Patient {
  const p = patient.resource;
  return {
    resourceType: 'Patient',
    id: patient.id,
    ...(p.identifier ? { identifier: p.identifier } : {}),
    ...(p.name ? { name: p.name } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
  };
}

/** The minimum another organization is told (CMS: patient name, sending institution, treating practitioner). */
export function disclosureContext(organization: string, patient: EventPatient, resource: TopicResource): DisclosureContext {
  return {
    patient: disclosedPatient(patient),
    organization: { resourceType: 'Organization', id: organizationId(organization), name: organization },
    practitioners: practitionersOf(resource),
  };
}
