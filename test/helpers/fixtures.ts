import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';

export const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');
export const SHC_VECTORS = path.join(SHARED, 'specs/vectors/shc');
export const SHL_VECTORS = path.join(SHARED, 'specs/vectors/shl');

export function readVector(dir: string, name: string): string {
  return readFileSync(path.join(dir, name), 'utf8');
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
