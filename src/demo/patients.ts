import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, CodeableConcept, Composition, Coverage, Patient, Resource } from '@medplum/fhirtypes';

/**
 * Synthetic patients of the demo: who they are (the identity provider's claims), their health
 * history as a wallet would hold it (IPS-style: Patient, problems, allergies, medicines,
 * immunizations) and their insurance card (CARIN C4DIC-style Coverage). Nobody here is real.
 */

const LOINC = 'http://loinc.org';
/** The code systems patients.json names by short key. */
const SYSTEMS = { sct: 'http://snomed.info/sct', rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm', cvx: 'http://hl7.org/fhir/sid/cvx' } as const;

type Code = [system: keyof typeof SYSTEMS, code: string, display: string];

export interface DemoPatient {
  /** Stable id of the demo (also the identity provider's `sub`). */
  id: string;
  given: string[];
  family: string;
  birthDate: string;
  gender: 'female' | 'male';
  mrn: string;
  phone: string;
  address: { line: string; city: string; state: string; postalCode: string };
  insurance: { memberId: string; group: string; plan: string };
  conditions: Code[];
  allergies: Code[];
  medications: { code: Code; dosage: string; since: string }[];
  immunizations: { code: Code; date: string }[];
  /** What the EHR writes at the end of the demo visit. */
  visit: { reason: string; diagnosis: Code; notes: string; medicine: { code: Code; dosage: string }; instructions: string; followUp: string };
}

/** The patients are data (patients.json), the FHIR shapes are code (below). */
export const DEMO_PATIENTS: readonly DemoPatient[] = JSON.parse(readFileSync(new URL('./patients.json', import.meta.url), 'utf8')) as DemoPatient[];

export function demoPatient(id: string): DemoPatient | undefined {
  return DEMO_PATIENTS.find((p) => p.id === id);
}

/** The identity provider's claims for the patient (OIDC standard claims the gateway matches). */
export function identityClaims(p: DemoPatient): Record<string, string> {
  return { sub: p.id, given_name: p.given.join(' '), family_name: p.family, birthdate: p.birthDate };
}

const concept = ([system, code, display]: Code): CodeableConcept => ({ coding: [{ system: SYSTEMS[system], code, display }], text: display });
const status = (system: string, code: string): CodeableConcept => ({ coding: [{ system: `http://terminology.hl7.org/CodeSystem/${system}`, code }] });
/** `urn:uuid:` fullUrls for one Bundle: the same part name gives the same one. */
function urns(): (part: string) => string {
  const ids = new Map<string, string>();
  return (part) => {
    if (!ids.has(part)) ids.set(part, `urn:uuid:${randomUUID()}`);
    return ids.get(part) as string;
  };
}

function patientResource(p: DemoPatient): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:ktc-gateway:demo:mrn', value: p.mrn }],
    name: [{ family: p.family, given: p.given }],
    gender: p.gender,
    birthDate: p.birthDate,
    telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }],
    address: [{ line: [p.address.line], city: p.address.city, state: p.address.state, postalCode: p.address.postalCode }],
  };
}

/** The insurance card, shaped after CARIN's Digital Insurance Card (C4DIC) Coverage. */
function coverage(p: DemoPatient, beneficiary: string): Coverage {
  const classOf = (code: string, value: string, name: string) => ({
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code }] },
    value,
    name,
  });
  return {
    resourceType: 'Coverage',
    meta: { profile: ['http://hl7.org/fhir/us/insurance-card/StructureDefinition/C4DIC-Coverage'] },
    identifier: [{ type: status('v2-0203', 'MB'), system: 'https://demo-health-plan.example/member', value: p.insurance.memberId }],
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIP', display: 'health insurance plan policy' }] },
    subscriberId: p.insurance.memberId,
    beneficiary: { reference: beneficiary },
    relationship: status('subscriber-relationship', 'self'),
    period: { start: '2026-01-01', end: '2026-12-31' },
    payor: [{ display: 'Demo Health Plan' }],
    class: [classOf('group', p.insurance.group, 'Demo Employer'), classOf('plan', p.insurance.plan, p.insurance.plan)],
  };
}

function historyResources(p: DemoPatient, subject: string): Resource[] {
  const ref = { reference: subject };
  return [
    ...p.conditions.map(
      (code): Resource => ({
        resourceType: 'Condition',
        clinicalStatus: status('condition-clinical', 'active'),
        verificationStatus: status('condition-ver-status', 'confirmed'),
        category: [status('condition-category', 'problem-list-item')],
        code: concept(code),
        subject: ref,
      }),
    ),
    ...p.allergies.map(
      (code): Resource => ({
        resourceType: 'AllergyIntolerance',
        clinicalStatus: status('allergyintolerance-clinical', 'active'),
        verificationStatus: status('allergyintolerance-verification', 'confirmed'),
        code: concept(code),
        patient: ref,
      }),
    ),
    ...p.medications.map(
      (m): Resource => ({
        resourceType: 'MedicationStatement',
        status: 'active',
        medicationCodeableConcept: concept(m.code),
        subject: ref,
        effectivePeriod: { start: m.since },
        dosage: [{ text: m.dosage }],
      }),
    ),
    ...p.immunizations.map((i): Resource => ({ resourceType: 'Immunization', status: 'completed', vaccineCode: concept(i.code), patient: ref, occurrenceDateTime: i.date })),
  ];
}

/** What the wallet shares through its SMART Health Link: the whole history and the insurance card. */
export function walletHistoryBundle(p: DemoPatient): Bundle {
  const urn = urns();
  const subject = urn('patient');
  const resources = [coverage(p, subject), ...historyResources(p, subject)];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: subject, resource: patientResource(p) }, ...resources.map((resource, i) => ({ fullUrl: urn(`entry-${i}`), resource }))],
  };
}

/**
 * What fits the wallet's SMART Health Card QR: the card's minimal Patient (name and birth date,
 * as the card profile wants) and the insurance card.
 */
export function walletCardBundle(p: DemoPatient): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'resource:0', resource: { resourceType: 'Patient', name: [{ family: p.family, given: p.given }], birthDate: p.birthDate } },
      { fullUrl: 'resource:1', resource: coverage(p, 'resource:0') },
    ],
  };
}

const narrative = (text: string) => ({ status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${text}</div>` });

/** The document's Composition: one narrative section per part of the visit, pointing at its entry. */
function visitComposition(v: DemoPatient['visit'], u: (name: string) => string, now: Date): Composition {
  const section = (title: string, code: string, text: string, entry?: string) => ({
    title,
    code: { coding: [{ system: LOINC, code }] },
    text: narrative(text),
    ...(entry ? { entry: [{ reference: u(entry) }] } : {}),
  });
  return {
    resourceType: 'Composition',
    status: 'final',
    type: { coding: [{ system: LOINC, code: '34133-9', display: 'Summary of episode note' }] },
    subject: { reference: u('patient') },
    encounter: { reference: u('encounter') },
    date: now.toISOString(),
    author: [{ display: 'Demo Clinic' }],
    title: 'Your visit today',
    section: [
      section('Visit notes', '11506-3', v.notes),
      section('Diagnoses', '29548-5', v.diagnosis[2], 'diagnosis'),
      section('Medications', '10160-0', v.medicine.code[2], 'medicine'),
      section('Instructions', '69730-0', v.instructions, 'follow-up'),
    ],
  };
}

/**
 * The EHR's end-of-visit document for a checked-in patient (the gateway's Patient id): Composition
 * first, the Encounter, the diagnosis, the prescription and the follow-up appointment.
 */
export function visitDocument(p: DemoPatient, patientId: string, now: Date): Bundle {
  const v = p.visit;
  const u = urns();
  const day = 24 * 3600_000;
  const subject = { reference: u('patient') };
  const encounter = { reference: u('encounter') };
  const entries: BundleEntry[] = [
    { fullUrl: u('composition'), resource: visitComposition(v, u, now) },
    { fullUrl: u('patient'), resource: { resourceType: 'Patient', id: patientId, name: [{ family: p.family, given: p.given }], birthDate: p.birthDate } },
    {
      fullUrl: u('encounter'),
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
        type: [{ text: v.reason }],
        subject,
        period: { start: new Date(now.getTime() - 3600_000).toISOString(), end: now.toISOString() },
      },
    },
    {
      fullUrl: u('diagnosis'),
      resource: {
        resourceType: 'Condition',
        clinicalStatus: status('condition-clinical', 'active'),
        category: [status('condition-category', 'encounter-diagnosis')],
        code: concept(v.diagnosis),
        subject,
        encounter,
      },
    },
    {
      fullUrl: u('medicine'),
      resource: {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: concept(v.medicine.code),
        subject,
        encounter,
        dosageInstruction: [{ text: v.medicine.dosage }],
      },
    },
    {
      fullUrl: u('follow-up'),
      resource: {
        resourceType: 'Appointment',
        status: 'booked',
        description: v.followUp,
        start: new Date(now.getTime() + 28 * day).toISOString(),
        end: new Date(now.getTime() + 28 * day + 1200_000).toISOString(),
        participant: [{ actor: subject, status: 'accepted' }],
      },
    },
  ];
  return { resourceType: 'Bundle', identifier: { system: 'urn:ietf:rfc:3986', value: u('document') }, type: 'document', timestamp: now.toISOString(), entry: entries };
}
