import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, BundleEntry, Composition } from '@medplum/fhirtypes';

export const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors');
export const SHC_VECTORS = path.join(VECTORS, 'shc');
export const SHL_VECTORS = path.join(VECTORS, 'shl');

export function readVector(dir: string, name: string): string {
  return readFileSync(path.join(dir, name), 'utf8');
}

/** The issuer of the spec's example cards. */
export const SHC_EXAMPLE_ISSUER = 'https://spec.smarthealth.cards/examples/issuer';

/** That issuer as a trusted `shcIssuers` entry, with its published keys inline (no network). */
export function shcExampleIssuer(): { iss: string; jwks: { keys: Record<string, unknown>[] } } {
  return { iss: SHC_EXAMPLE_ISSUER, jwks: JSON.parse(readVector(SHC_VECTORS, 'issuer.jwks.public.json')) as { keys: Record<string, unknown>[] } };
}

/** 2023-06-23T00:00:00Z: a day after the spec example cards were issued (their nbf). */
export const SHC_EXAMPLE_TIME = Date.UTC(2023, 5, 23);

/**
 * A clipboard-replacing check-in Bundle: US Core Patient, CARIN insurance card (Coverage) and
 * health history, with urn:uuid references between entries.
 */
export function clipboardBundle(p: { given?: string; family?: string; birthDate?: string } = {}): Bundle {
  const patient = 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a01';
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: patient,
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'http://hospital.example/mrn', value: 'MRN-1001' }],
          name: [{ family: p.family ?? 'Anyperson', given: (p.given ?? 'John B.').split(' ') }],
          gender: 'male',
          birthDate: p.birthDate ?? '1951-01-20',
          telecom: [{ system: 'phone', value: '555-0100', use: 'mobile' }],
          address: [{ line: ['1 Main St'], city: 'Springfield', state: 'IL', postalCode: '62701' }],
        },
      },
      {
        fullUrl: 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a02',
        resource: {
          resourceType: 'Coverage',
          meta: { profile: ['http://hl7.org/fhir/us/insurance-card/StructureDefinition/C4DIC-Coverage'] },
          identifier: [
            {
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MB' }] },
              system: 'https://payer.example/member',
              value: 'MEM-778899',
            },
          ],
          status: 'active',
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIP', display: 'health insurance plan policy' }] },
          subscriberId: 'SUB-778899',
          beneficiary: { reference: patient },
          relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] },
          period: { start: '2026-01-01', end: '2026-12-31' },
          payor: [{ display: 'Example Health Plan' }],
          class: [
            { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: 'GRP-100', name: 'Example Employer' },
            { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: 'PLN-GOLD', name: 'Gold PPO' },
          ],
        },
      },
      {
        fullUrl: 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a03',
        resource: {
          resourceType: 'AllergyIntolerance',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
          code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7980', display: 'Penicillin G' }] },
          patient: { reference: patient },
        },
      },
      {
        fullUrl: 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a04',
        resource: {
          resourceType: 'Condition',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
          code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
          subject: { reference: patient },
        },
      },
      {
        fullUrl: 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a05',
        resource: {
          resourceType: 'MedicationStatement',
          status: 'active',
          medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975', display: 'metformin 500 MG Oral Tablet' }] },
          subject: { reference: patient },
          effectivePeriod: { start: '2024-03-01' },
          dosage: [{ text: 'one tablet twice a day with meals' }],
        },
      },
      {
        fullUrl: 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a06',
        resource: {
          resourceType: 'Immunization',
          status: 'completed',
          vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '208', display: 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose' }] },
          patient: { reference: patient },
          occurrenceDateTime: '2025-10-01',
        },
      },
    ],
  };
}

/**
 * An EHR's end-of-visit document: Composition first (notes, diagnoses, instructions), the
 * Encounter, the checked-in Patient (by its gateway id), a diagnosis, a prescription and the next
 * appointment.
 */
export function visitSummaryBundle(patientId: string, opts: { diagnosis?: string; compact?: boolean } = {}): Bundle {
  const u = (n: number) => `urn:uuid:0c3f6a9e-1111-4000-8000-00000000000${n}`;
  const diagnosis = opts.diagnosis ?? 'High blood pressure';
  const div = (text: string) => ({ status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${text}</div>` });
  const full: Bundle = {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c3f6a9e-1111-4000-8000-0000000000aa' },
    type: 'document',
    timestamp: '2026-11-23T11:30:00Z',
    entry: [
      {
        fullUrl: u(1),
        resource: {
          resourceType: 'Composition',
          status: 'final',
          type: { coding: [{ system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' }] },
          subject: { reference: u(2) },
          encounter: { reference: u(3) },
          date: '2026-11-23T11:30:00Z',
          author: [{ display: 'Clinic A' }],
          title: 'Your visit today',
          section: [
            { title: 'Visit notes', code: { coding: [{ system: 'http://loinc.org', code: '11506-3' }] }, text: div('Seen for a blood pressure check.') },
            { title: 'Diagnoses', code: { coding: [{ system: 'http://loinc.org', code: '29548-5' }] }, text: div(diagnosis), entry: [{ reference: u(4) }] },
            { title: 'Medications', code: { coding: [{ system: 'http://loinc.org', code: '10160-0' }] }, text: div('Lisinopril 10 mg'), entry: [{ reference: u(5) }] },
            {
              title: 'Instructions',
              code: { coding: [{ system: 'http://loinc.org', code: '69730-0' }] },
              text: div('Take lisinopril once a day. Check your blood pressure at home.'),
              entry: [{ reference: u(6) }],
            },
          ],
        },
      },
      { fullUrl: u(2), resource: { resourceType: 'Patient', id: patientId, name: [{ family: 'Anyperson', given: ['John', 'B.'] }], birthDate: '1951-01-20' } },
      {
        fullUrl: u(3),
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
          type: [{ text: 'Blood pressure check' }],
          subject: { reference: u(2) },
          period: { start: '2026-11-23T10:45:00Z', end: '2026-11-23T11:20:00Z' },
        },
      },
      {
        fullUrl: u(4),
        resource: {
          resourceType: 'Condition',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
          code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }], text: diagnosis },
          subject: { reference: u(2) },
          encounter: { reference: u(3) },
        },
      },
      {
        fullUrl: u(5),
        resource: {
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          medicationCodeableConcept: {
            coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076', display: 'lisinopril 10 MG Oral Tablet' }],
            text: 'Lisinopril 10 mg tablet',
          },
          subject: { reference: u(2) },
          encounter: { reference: u(3) },
          dosageInstruction: [{ text: 'Take one tablet by mouth once a day' }],
        },
      },
      {
        fullUrl: u(6),
        resource: {
          resourceType: 'Appointment',
          status: 'booked',
          description: 'Blood pressure follow-up',
          start: '2027-05-20T09:00:00Z',
          end: '2027-05-20T09:20:00Z',
          participant: [{ actor: { reference: u(2) }, status: 'accepted' }],
        },
      },
    ],
  };
  if (!opts.compact) return full;
  // Small enough for a single-QR SMART Health Card: diagnosis only, no narrative.
  const [composition, patient, encounter, condition] = full.entry! as [BundleEntry<Composition>, BundleEntry, BundleEntry, BundleEntry];
  const diagnoses = composition.resource!.section![1]!;
  const slim: Composition = { ...composition.resource!, section: [{ title: diagnoses.title, code: diagnoses.code, entry: diagnoses.entry }] };
  return { ...full, entry: [{ ...composition, resource: slim }, patient, encounter, condition] };
}
