import type { Bundle, BundleEntry, Condition } from '@medplum/fhirtypes';
import { clipboardBundle } from '../helpers/fixtures.js';

/**
 * The payloads of the security review's stall findings (issue 15), rebuilt: each is a check-in or
 * visit document that cost the gateway seconds of blocked event loop. Sizes follow the review
 * (1 MB inline bodies, a 19 KB SHL file that inflates to 4.9 MB).
 */

const PATIENT_REF = 'urn:uuid:6d8c1a52-0c4b-4bb2-9a57-1f7c5c6f0a01';

/** The smallest invalid Condition (no subject): how the review fit 20,000 entries in 1 MB. */
export function bareCondition(): Condition {
  return { resourceType: 'Condition' } as Condition;
}

/** A Condition that fails US Core in several ways (no subject, no code, bad status code). */
export function invalidCondition(): Condition {
  return { resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'urn:x', code: 'x' }] } } as unknown as Condition;
}

export function validCondition(i: number): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }], text: `entry ${i}` },
    subject: { reference: PATIENT_REF },
    onsetDateTime: '2020-01-01',
  };
}

/** The patient's clipboard Bundle (one Patient) followed by `count` more Conditions. */
export function checkinWith(count: number, make: (i: number) => Condition = bareCondition, p?: Parameters<typeof clipboardBundle>[0]): Bundle {
  const base = clipboardBundle(p);
  const patient = base.entry!.slice(0, 1);
  const extra: BundleEntry[] = Array.from({ length: count }, (_, i) => ({ resource: make(i) }));
  return { ...base, entry: [...patient, ...extra] };
}

/** A visit document: Composition, then `count` invalid Conditions. */
export function visitDocumentWith(count: number, patientId: string, make: (i: number) => Condition = bareCondition): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:2f1e3c22-7f59-4a55-9d3c-0b0c1e9e7e01' },
    timestamp: '2026-01-01T10:00:00Z',
    entry: [
      {
        fullUrl: 'urn:uuid:2f1e3c22-7f59-4a55-9d3c-0b0c1e9e7e02',
        resource: {
          resourceType: 'Composition',
          status: 'final',
          type: { coding: [{ system: 'http://loinc.org', code: '81218-0' }] },
          subject: { reference: `Patient/${patientId}` },
          date: '2026-01-01T10:00:00Z',
          author: [{ display: 'Clinic' }],
          title: 'Visit summary',
        },
      },
      ...Array.from({ length: count }, (_, i) => ({ resource: make(i) })),
    ],
  };
}
