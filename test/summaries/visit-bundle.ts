import type { Bundle } from '@medplum/fhirtypes';

/**
 * A visit-summary document with identifying data everywhere a real one has it (names, record
 * numbers, phone, e-mail, address, member id, also repeated inside the free-text notes), so tests
 * can check none of it reaches the model.
 */

export const PHI = {
  given: 'Jordan',
  family: 'Quimbleton',
  mrn: 'MRN-4471-X',
  phone: '555-867-5309',
  email: 'jordan.q@example.org',
  street: '42 Wallaby Way',
  city: 'Springfield',
  postalCode: '62704',
  birthDate: '1980-04-02',
  clinician: 'Carterfield',
  npi: '1234567893',
  member: 'W123456789',
  encounterId: 'ENC-99812',
  rxNumber: 'RX-55521',
};

const U = (n: number) => `urn:uuid:5f1c2a0e-0000-4000-8000-00000000000${n}`;

export function visitBundle(opts: { extraNote?: string; instructions?: string } = {}): Bundle {
  const div = (t: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${t}</div>`;
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:5f1c2a0e-0000-4000-8000-0000000000ff' },
    type: 'document',
    timestamp: '2024-03-01T11:30:00Z',
    entry: [
      {
        fullUrl: U(1),
        resource: {
          resourceType: 'Composition',
          status: 'final',
          type: { coding: [{ system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' }] },
          subject: { reference: U(2), display: `${PHI.given} ${PHI.family}` },
          encounter: { reference: U(3) },
          date: '2024-03-01T11:30:00Z',
          author: [{ reference: U(4), display: `Dr. Alice ${PHI.clinician}` }],
          title: 'Visit summary',
          section: [
            {
              title: 'Visit notes',
              code: { coding: [{ system: 'http://loinc.org', code: '11506-3' }] },
              text: {
                status: 'generated',
                div: div(
                  `<p>${PHI.given} ${PHI.family} (${PHI.mrn}, born ${PHI.birthDate}) came in for a blood pressure check. ` +
                    `Blood pressure is well controlled. Reach the patient at ${PHI.phone} or ${PHI.email}; lives at ${PHI.street}, ${PHI.city} ${PHI.postalCode}. ` +
                    `Member id ${PHI.member}.</p>${opts.extraNote ? `<p>${opts.extraNote}</p>` : ''}`,
                ),
              },
            },
            {
              title: 'Instructions',
              code: { coding: [{ system: 'http://loinc.org', code: '69730-0' }] },
              text: { status: 'generated', div: div(opts.instructions ?? 'Keep taking lisinopril 10 mg once a day. Come back in 6 months.') },
            },
          ],
        },
      },
      {
        fullUrl: U(2),
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: 'http://clinic.example/mrn', value: PHI.mrn }],
          name: [{ family: PHI.family, given: [PHI.given, 'Q.'] }],
          telecom: [
            { system: 'phone', value: PHI.phone },
            { system: 'email', value: PHI.email },
          ],
          address: [{ line: [PHI.street], city: PHI.city, state: 'IL', postalCode: PHI.postalCode }],
          gender: 'female',
          birthDate: PHI.birthDate,
        },
      },
      {
        fullUrl: U(3),
        resource: {
          resourceType: 'Encounter',
          identifier: [{ system: 'http://clinic.example/encounter', value: PHI.encounterId }],
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
          type: [{ text: 'Office visit' }],
          subject: { reference: U(2) },
          participant: [{ individual: { reference: U(4), display: `Dr. Alice ${PHI.clinician}` } }],
          period: { start: '2024-03-01T10:45:00Z', end: '2024-03-01T11:20:00Z' },
          reasonCode: [{ text: 'Blood pressure check' }],
        },
      },
      {
        fullUrl: U(4),
        resource: {
          resourceType: 'Practitioner',
          identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: PHI.npi }],
          name: [{ family: PHI.clinician, given: ['Alice'], prefix: ['Dr.'] }],
        },
      },
      {
        fullUrl: 'http://clinic.example/fhir/Condition/htn-1',
        resource: {
          resourceType: 'Condition',
          id: 'htn-1',
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
          code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }], text: 'High blood pressure' },
          subject: { reference: U(2) },
          encounter: { reference: U(3) },
        },
      },
      {
        fullUrl: U(5),
        resource: {
          resourceType: 'MedicationRequest',
          identifier: [{ value: PHI.rxNumber }],
          status: 'active',
          intent: 'order',
          medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076', display: 'lisinopril 10 MG Oral Tablet' }] },
          subject: { reference: U(2) },
          requester: { reference: U(4), display: `Dr. Alice ${PHI.clinician}` },
          dosageInstruction: [{ text: 'Take 1 tablet by mouth once a day' }],
        },
      },
      {
        fullUrl: U(6),
        resource: {
          resourceType: 'Appointment',
          status: 'booked',
          description: 'Blood pressure follow-up',
          start: '2024-09-03T09:00:00-05:00',
          end: '2024-09-03T09:20:00-05:00',
          participant: [{ actor: { reference: U(2), display: `${PHI.given} ${PHI.family}` }, status: 'accepted' }],
        },
      },
      {
        fullUrl: U(7),
        resource: {
          resourceType: 'Coverage',
          status: 'active',
          subscriberId: PHI.member,
          beneficiary: { reference: U(2) },
          payor: [{ display: 'Acme Health Plan' }],
        },
      },
    ],
  };
}
