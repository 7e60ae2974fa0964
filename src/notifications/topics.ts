import { isDeepStrictEqual } from 'node:util';
import type { Appointment, Encounter } from '@medplum/fhirtypes';
import { PATIENT_IDENTIFIER, type FilterParameter, type TopicResource } from './filters.js';

/**
 * The topics the gateway serves. R4 has no SubscriptionTopic resource: a topic is its canonical
 * URL (Backport IG 1.1.0 §R4 topics). Where a published IG defines a topic we use its URL:
 * encounter start and end are MedMorph RA STU1's (`hl7.fhir.us.medmorph` 1.0.0, the only
 * published per-event encounter topics). No published IG defines an appointment topic, so that
 * one carries the gateway's own canonical base, like its profiles.
 */
export interface Topic {
  /** Local id: /fhir/SubscriptionTopic/{id} and /fhir/Basic/{id}. */
  id: string;
  url: string;
  title: string;
  description: string;
  resourceType: TopicResource['resourceType'];
  /** The trigger as published (SubscriptionTopic.resourceTrigger.fhirPathCriteria); `fires` is its implementation. */
  fhirPathCriteria: string;
  fires(previous: TopicResource | undefined, current: TopicResource): boolean;
  canFilterBy: readonly FilterParameter[];
}

const STARTS = new Set(['arrived', 'in-progress']);
// Statuses of an encounter already under way: moving between them (arrived → triaged → in-progress, onleave and back) is no new start.
const UNDER_WAY = new Set(['arrived', 'triaged', 'in-progress', 'onleave']);

function refTypeIs(reference: string | undefined, type: string): boolean {
  return reference !== undefined && new RegExp(`(^|/)${type}/[^/]+(/_history/[^/]+)?$`).test(reference);
}

const patientIdentifier = (where: string): FilterParameter => ({
  name: PATIENT_IDENTIFIER,
  kind: 'patient-identifier',
  description: `The patient (${where}) by identifier, system|value: any identifier of the stored Patient, or its verified identity (identity provider issuer|sub); also written patient:identifier. Required for another organization's events`,
});

const encounterFilters: FilterParameter[] = [
  patientIdentifier('Encounter.subject'),
  {
    name: 'patient',
    kind: 'reference',
    target: 'Patient',
    description: 'The patient the encounter is for (Encounter.subject, when a Patient)',
    read: (r) => [(r as Encounter).subject?.reference].filter((x) => refTypeIs(x, 'Patient')),
  },
  { name: 'subject', kind: 'reference', description: 'Encounter.subject', read: (r) => [(r as Encounter).subject?.reference] },
  {
    name: 'service-provider',
    kind: 'reference',
    target: 'Organization',
    description: 'The organization responsible for the encounter (Encounter.serviceProvider)',
    read: (r) => [(r as Encounter).serviceProvider?.reference],
  },
  { name: 'status', kind: 'token', description: 'Encounter.status', read: (r) => [{ system: 'http://hl7.org/fhir/encounter-status', code: r.status }] },
  { name: 'class', kind: 'token', description: 'Encounter.class', read: (r) => [(r as Encounter).class].filter((c) => c !== undefined) },
];

const appointmentFilters: FilterParameter[] = [
  patientIdentifier('Appointment.participant.actor'),
  {
    name: 'patient',
    kind: 'reference',
    target: 'Patient',
    description: 'A Patient taking part (Appointment.participant.actor)',
    read: (r) => ((r as Appointment).participant ?? []).map((p) => p.actor?.reference).filter((x) => refTypeIs(x, 'Patient')),
  },
  {
    name: 'actor',
    kind: 'reference',
    description: 'Any participant (Appointment.participant.actor)',
    read: (r) => ((r as Appointment).participant ?? []).map((p) => p.actor?.reference),
  },
  { name: 'status', kind: 'token', description: 'Appointment.status', read: (r) => [{ system: 'http://hl7.org/fhir/appointmentstatus', code: r.status }] },
];

function withoutMeta(r: TopicResource): Omit<TopicResource, 'meta'> {
  const { meta: _meta, ...rest } = r;
  return rest;
}

export const TOPICS: readonly Topic[] = [
  {
    id: 'encounter-start',
    url: 'http://hl7.org/fhir/us/medmorph/SubscriptionTopic/encounter-start',
    title: 'Encounter start',
    description:
      'An Encounter has started: it was created as arrived or in-progress, or its status became one of those from a status that is not under way (planned, finished, unknown ...; arrived → triaged → in-progress is one start). Patient check-in at a kiosk starts an encounter.',
    resourceType: 'Encounter',
    fhirPathCriteria:
      "(%current.status = 'arrived' or %current.status = 'in-progress') and (%previous.empty() or (%previous.status in ('arrived' | 'triaged' | 'in-progress' | 'onleave')).not())",
    fires: (previous, current) => STARTS.has(current.status) && (!previous || !UNDER_WAY.has(previous.status)),
    canFilterBy: encounterFilters,
  },
  {
    id: 'encounter-end',
    url: 'http://hl7.org/fhir/us/medmorph/SubscriptionTopic/encounter-end',
    title: 'Encounter end',
    description: 'An Encounter has ended: it was created as finished, or its status changed to finished.',
    resourceType: 'Encounter',
    fhirPathCriteria: "%current.status = 'finished' and (%previous.empty() or %previous.status != 'finished')",
    fires: (previous, current) => current.status === 'finished' && previous?.status !== 'finished',
    canFilterBy: encounterFilters,
  },
  {
    id: 'appointment-booked-or-changed',
    url: 'http://ktc-gateway.example/fhir/SubscriptionTopic/appointment-booked-or-changed',
    title: 'Appointment booked or changed',
    description: 'An Appointment was created (booked, proposed, ...) or any of its content changed (rescheduled, cancelled, participants).',
    resourceType: 'Appointment',
    fhirPathCriteria: '%previous.empty() or %previous != %current',
    fires: (previous, current) => !previous || !isDeepStrictEqual(withoutMeta(previous), withoutMeta(current)),
    canFilterBy: appointmentFilters,
  },
];

export function topicByUrl(url: string): Topic | undefined {
  return TOPICS.find((t) => t.url === url);
}

export function topicById(id: string): Topic | undefined {
  return TOPICS.find((t) => t.id === id);
}

/** The topics a change of one resource fires (`previous` absent for a create). */
export function topicsFiredBy(previous: TopicResource | undefined, current: TopicResource): Topic[] {
  return TOPICS.filter((t) => t.resourceType === current.resourceType && t.fires(previous, current));
}
