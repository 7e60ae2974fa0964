import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, CodeableConcept, Coverage, Patient, Resource } from '@medplum/fhirtypes';

/**
 * Synthetic patients of the demo: who they are (the identity provider's claims), their health
 * history as a wallet would hold it (IPS-style: Patient, problems, allergies, medicines,
 * immunizations) and their insurance card (CARIN C4DIC-style Coverage). Nobody here is real.
 */

const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const CVX = 'http://hl7.org/fhir/sid/cvx';
const LOINC = 'http://loinc.org';

type Code = [system: string, code: string, display: string];

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

export const DEMO_PATIENTS: readonly DemoPatient[] = [
  {
    id: 'maria-garcia',
    given: ['Maria', 'Elena'],
    family: 'Garcia',
    birthDate: '1984-07-14',
    gender: 'female',
    mrn: 'DEMO-1001',
    phone: '555-0142',
    address: { line: '12 Elm Street', city: 'Springfield', state: 'IL', postalCode: '62704' },
    insurance: { memberId: 'DHP-5501842', group: 'GRP-2040', plan: 'Silver HMO' },
    conditions: [
      [SNOMED, '195967001', 'Asthma'],
      [SNOMED, '367498001', 'Seasonal allergic rhinitis'],
    ],
    allergies: [[SNOMED, '256349002', 'Peanut']],
    medications: [{ code: [RXNORM, '745679', 'albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'], dosage: 'two puffs every 4 to 6 hours as needed for wheezing', since: '2019-04-02' }],
    immunizations: [{ code: [CVX, '150', 'Influenza, injectable, quadrivalent, preservative free'], date: '2025-10-06' }],
    visit: {
      reason: 'Cough and wheezing for a week',
      diagnosis: [SNOMED, '195967001', 'Asthma'],
      notes: 'Seen for cough and wheezing after a cold. Lungs clear after one inhaler treatment.',
      medicine: { code: [RXNORM, '745679', 'albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'], dosage: 'Two puffs every 4 to 6 hours when you wheeze' },
      instructions: 'Use your inhaler when you wheeze. Avoid smoke. Come back if you need it more than every 4 hours.',
      followUp: 'Asthma check-up',
    },
  },
  {
    id: 'james-okafor',
    given: ['James', 'Robert'],
    family: 'Okafor',
    birthDate: '1958-03-02',
    gender: 'male',
    mrn: 'DEMO-1002',
    phone: '555-0178',
    address: { line: '400 Lake Road', city: 'Springfield', state: 'IL', postalCode: '62701' },
    insurance: { memberId: 'DHP-7730911', group: 'GRP-1187', plan: 'Gold PPO' },
    conditions: [
      [SNOMED, '38341003', 'Hypertensive disorder'],
      [SNOMED, '44054006', 'Diabetes mellitus type 2'],
    ],
    allergies: [[RXNORM, '7980', 'Penicillin G']],
    medications: [
      { code: [RXNORM, '860975', 'metformin 500 MG Oral Tablet'], dosage: 'one tablet twice a day with meals', since: '2021-06-15' },
      { code: [RXNORM, '314076', 'lisinopril 10 MG Oral Tablet'], dosage: 'one tablet every morning', since: '2020-01-20' },
    ],
    immunizations: [{ code: [CVX, '208', 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose'], date: '2025-09-18' }],
    visit: {
      reason: 'Blood pressure and diabetes check',
      diagnosis: [SNOMED, '38341003', 'Hypertensive disorder'],
      notes: 'Blood pressure 148/92 today. A1c 7.1 percent.',
      medicine: { code: [RXNORM, '314077', 'lisinopril 20 MG Oral Tablet'], dosage: 'One tablet by mouth every morning' },
      instructions: 'Take the new lisinopril dose every morning. Check your blood pressure at home twice a week.',
      followUp: 'Blood pressure follow-up',
    },
  },
  {
    id: 'aiko-tanaka',
    given: ['Aiko'],
    family: 'Tanaka',
    birthDate: '1992-11-30',
    gender: 'female',
    mrn: 'DEMO-1003',
    phone: '555-0109',
    address: { line: '8 Harbor Way', city: 'Springfield', state: 'IL', postalCode: '62702' },
    insurance: { memberId: 'DHP-1200377', group: 'GRP-3300', plan: 'Bronze EPO' },
    conditions: [[SNOMED, '40930008', 'Hypothyroidism']],
    allergies: [[RXNORM, '10180', 'Sulfamethoxazole']],
    medications: [{ code: [RXNORM, '10582', 'levothyroxine'], dosage: 'one tablet every morning before breakfast', since: '2022-02-11' }],
    immunizations: [{ code: [CVX, '115', 'Tdap'], date: '2024-05-20' }],
    visit: {
      reason: 'Tiredness',
      diagnosis: [SNOMED, '40930008', 'Hypothyroidism'],
      notes: 'Feels tired. Thyroid blood test ordered.',
      medicine: { code: [RXNORM, '10582', 'levothyroxine'], dosage: 'Keep taking one tablet every morning' },
      instructions: 'Get the blood test this week. We will call you with the result.',
      followUp: 'Thyroid results visit',
    },
  },
];

export function demoPatient(id: string): DemoPatient | undefined {
  return DEMO_PATIENTS.find((p) => p.id === id);
}

/** The identity provider's claims for the patient (OIDC standard claims the gateway matches). */
export function identityClaims(p: DemoPatient): Record<string, string> {
  return { sub: p.id, given_name: p.given.join(' '), family_name: p.family, birthdate: p.birthDate };
}

const concept = ([system, code, display]: Code): CodeableConcept => ({ coding: [{ system, code, display }], text: display });
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
    ...p.conditions.map((code): Resource => ({
      resourceType: 'Condition',
      clinicalStatus: status('condition-clinical', 'active'),
      verificationStatus: status('condition-ver-status', 'confirmed'),
      category: [status('condition-category', 'problem-list-item')],
      code: concept(code),
      subject: ref,
    })),
    ...p.allergies.map((code): Resource => ({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: status('allergyintolerance-clinical', 'active'),
      verificationStatus: status('allergyintolerance-verification', 'confirmed'),
      code: concept(code),
      patient: ref,
    })),
    ...p.medications.map((m): Resource => ({
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: concept(m.code),
      subject: ref,
      effectivePeriod: { start: m.since },
      dosage: [{ text: m.dosage }],
    })),
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
  const section = (title: string, code: string, text: string, entry?: string) => ({
    title,
    code: { coding: [{ system: LOINC, code }] },
    text: narrative(text),
    ...(entry ? { entry: [{ reference: u(entry) }] } : {}),
  });
  const entries: BundleEntry[] = [
    {
      fullUrl: u('composition'),
      resource: {
        resourceType: 'Composition',
        status: 'final',
        type: { coding: [{ system: LOINC, code: '34133-9', display: 'Summary of episode note' }] },
        subject,
        encounter,
        date: now.toISOString(),
        author: [{ display: 'Demo Clinic' }],
        title: 'Your visit today',
        section: [
          section('Visit notes', '11506-3', v.notes),
          section('Diagnoses', '29548-5', v.diagnosis[2], 'diagnosis'),
          section('Medications', '10160-0', v.medicine.code[2], 'medicine'),
          section('Instructions', '69730-0', v.instructions, 'follow-up'),
        ],
      },
    },
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
      resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: concept(v.medicine.code), subject, encounter, dosageInstruction: [{ text: v.medicine.dosage }] },
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
