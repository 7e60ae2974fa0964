import type { Bundle, CodeableConcept, CompositionSection, Dosage, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import { redactorFor } from './redact.js';

/**
 * The visit Bundle reduced to the facts a plain-language summary needs. Only clinical content is
 * taken, field by field: Patient, Practitioner, Organization, Location, Coverage and every
 * identifier, name, address, telecom and insurance number are left behind, and free text is
 * redacted (redact.ts). Each entry gets a short alias (`Condition/2`) that the model cites; the
 * gateway maps aliases back to the Bundle's own references, so no record id leaves either.
 */

export type FactKind =
  | 'encounter'
  | 'note'
  | 'instructions'
  | 'diagnosis'
  | 'medication'
  | 'allergy'
  | 'procedure'
  | 'result'
  | 'immunization'
  | 'plan'
  | 'appointment'
  | 'order'
  | 'goal';

export interface Fact {
  /** The alias the model cites. */
  ref: string;
  kind: FactKind;
  /** Set for Composition sections only. */
  title?: string;
  text: string;
  status?: string;
  /** Date (and time) as written in the record. */
  when?: string;
  /** How to take a medicine, what to do for a test or visit: the care team's words. */
  instructions?: string[];
  /** Everything else worth knowing: reasons, values, interpretations, reactions, notes. */
  details?: string[];
}

export interface VisitFacts {
  facts: Fact[];
  /** Alias → the Bundle's reference for the entry (`Type/id`, else its fullUrl). */
  references: ReadonlyMap<string, string>;
}

const LOINC = 'http://loinc.org';
const SECTION_KIND_BY_LOINC: Record<string, FactKind> = {
  '69730-0': 'instructions', // Instructions
  '8653-8': 'instructions', // Hospital discharge instructions
  '18776-5': 'instructions', // Plan of care note
  '61146-7': 'instructions', // Goals
  '29548-5': 'diagnosis', // Diagnosis
  '11450-4': 'diagnosis', // Problem list
  '11535-2': 'diagnosis', // Hospital discharge diagnosis
  '10160-0': 'medication', // History of medication use
  '29549-3': 'medication', // Medication administered
  '10183-2': 'medication', // Hospital discharge medications
  '75311-1': 'medication', // Discharge medications
};
const SECTION_KIND_BY_TITLE: [RegExp, FactKind][] = [
  [/instruction|plan|follow|next step|return|referr/i, 'instructions'],
  [/diagnos|problem|assessment/i, 'diagnosis'],
  [/medic|prescri/i, 'medication'],
];

/**
 * Stored visits were validated on the way in; these helpers still take only arrays as lists and
 * strings as text, so a malformed element is skipped rather than failing the whole summary.
 */
function list<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

function codeText(cc: CodeableConcept | undefined): string | undefined {
  return str(cc?.text) ?? str(list(cc?.coding).find((c) => str(c?.display))?.display);
}

function codeTexts(l: CodeableConcept[] | undefined): string[] {
  return list(l)
    .map(codeText)
    .filter((t): t is string => Boolean(t));
}

function statusCode(cc: CodeableConcept | undefined): string | undefined {
  return str(list(cc?.coding).find((c) => str(c?.code))?.code);
}

function quantityText(q: Quantity | undefined): string | undefined {
  const unit = str(q?.unit) ?? str(q?.code);
  return typeof q?.value === 'number' ? `${q.value}${unit ? ` ${unit}` : ''}` : undefined;
}

/** Date and, when present, time as written in the record (no time-zone conversion: the record's own offset stands). */
function when(value: string | undefined): string | undefined {
  const v = str(value);
  if (!v) return undefined;
  const time = v.length > 10 ? v.slice(11, 16) : '';
  return time ? `${v.slice(0, 10)} ${time}` : v.slice(0, 10);
}

function dosageTexts(l: Dosage[] | undefined): string[] {
  return list(l).flatMap((d) => [str(d?.text), str(d?.patientInstruction)].filter((t): t is string => Boolean(t)));
}

/** XHTML narrative to plain text. */
export function narrativeText(div: string | undefined): string | undefined {
  if (!str(div)) return undefined;
  const text = div!
    .replace(/<(?:br|\/p|\/li|\/tr|\/div|\/h\d)[^>]*>/gi, '. ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .replace(/(?:\s*\.\s*){2,}/g, '. ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  return text ? `${text}.`.replace(/([.!?])\.$/, '$1') : undefined;
}

function sectionKind(section: CompositionSection): FactKind {
  const code = list(section.code?.coding).find((c) => c?.system === LOINC && str(c.code) && Object.hasOwn(SECTION_KIND_BY_LOINC, c.code!))?.code;
  if (code) return SECTION_KIND_BY_LOINC[code] as FactKind;
  const title = str(section.title) ?? codeText(section.code) ?? '';
  return SECTION_KIND_BY_TITLE.find(([re]) => re.test(title))?.[1] ?? 'note';
}

function flattenSections(sections: CompositionSection[] | undefined): CompositionSection[] {
  return list(sections)
    .filter((s) => typeof s === 'object' && s !== null)
    .flatMap((s) => [s, ...flattenSections(s.section)]);
}

type Draft = Omit<Fact, 'ref'>;

type Parts = Partial<Pick<Fact, 'status' | 'when'>> & { instructions?: (string | undefined)[]; details?: (string | undefined)[] };

function draft(kind: FactKind, value: string | undefined, parts: Parts = {}): Draft[] {
  const text = str(value);
  if (!text) return [];
  const present = (l: (string | undefined)[] | undefined) => list(l).filter((x): x is string => Boolean(str(x)));
  const instructions = present(parts.instructions);
  const details = present(parts.details);
  return [
    {
      kind,
      text,
      ...(str(parts.status) ? { status: parts.status } : {}),
      ...(str(parts.when) ? { when: parts.when } : {}),
      ...(instructions.length ? { instructions } : {}),
      ...(details.length ? { details } : {}),
    },
  ];
}

function notes(l: { text?: string }[] | undefined): string[] {
  return list(l)
    .map((n) => str(n?.text))
    .filter((t): t is string => Boolean(t));
}

/** What one entry says, as drafts (a Composition gives one per section); [] for entries the summary does not use. */
function draftsOf(resource: Resource, lookup: (ref: Reference | undefined) => Resource | undefined): Draft[] {
  return visitDrafts(resource, lookup) ?? resultAndPlanDrafts(resource) ?? [];
}

/** The visit itself, diagnoses, medications and allergies; undefined for other resource types. */
function visitDrafts(resource: Resource, lookup: (ref: Reference | undefined) => Resource | undefined): Draft[] | undefined {
  const medicationName = (cc: CodeableConcept | undefined, ref: Reference | undefined) => {
    const med = lookup(ref);
    return codeText(cc) ?? (med?.resourceType === 'Medication' ? codeText(med.code) : undefined) ?? ref?.display;
  };

  switch (resource.resourceType) {
    case 'Composition':
      return flattenSections(resource.section).flatMap((s) => {
        const text = narrativeText(s.text?.div);
        return text ? [{ kind: sectionKind(s), title: str(s.title) ?? codeText(s.code) ?? 'Section', text }] : [];
      });
    case 'Encounter':
      return draft('encounter', codeTexts(resource.type)[0] ?? resource.class?.display ?? 'Visit', {
        when: when(resource.period?.start),
        details: [
          ...codeTexts(resource.reasonCode).map((r) => `reason: ${r}`),
          codeText(resource.hospitalization?.dischargeDisposition) && `discharge: ${codeText(resource.hospitalization?.dischargeDisposition)}`,
        ],
      });
    case 'Condition': {
      const verification = statusCode(resource.verificationStatus);
      return draft('diagnosis', codeText(resource.code), {
        status: statusCode(resource.clinicalStatus),
        details: [
          verification && verification !== 'confirmed' ? `verification: ${verification}` : undefined,
          codeText(resource.severity) && `severity: ${codeText(resource.severity)}`,
          ...notes(resource.note),
        ],
      });
    }
    case 'MedicationRequest':
      return draft('medication', medicationName(resource.medicationCodeableConcept, resource.medicationReference), {
        status: resource.status,
        instructions: dosageTexts(resource.dosageInstruction),
        details: notes(resource.note),
      });
    case 'MedicationStatement':
      return draft('medication', medicationName(resource.medicationCodeableConcept, resource.medicationReference), {
        status: resource.status,
        instructions: dosageTexts(resource.dosage),
        details: notes(resource.note),
      });
    case 'MedicationAdministration':
      return draft('medication', medicationName(resource.medicationCodeableConcept, resource.medicationReference), {
        status: 'given during the visit',
        when: when(resource.effectiveDateTime ?? resource.effectivePeriod?.start),
        details: [resource.dosage?.text],
      });
    case 'AllergyIntolerance':
      return draft('allergy', codeText(resource.code), {
        status: statusCode(resource.clinicalStatus),
        details: [
          resource.criticality && `criticality: ${resource.criticality}`,
          ...list(resource.reaction)
            .flatMap((r) => codeTexts(r?.manifestation))
            .map((m) => `reaction: ${m}`),
        ],
      });
    default:
      return undefined;
  }
}

/** Procedures, results, immunizations and what comes next; undefined for other resource types. */
function resultAndPlanDrafts(resource: Resource): Draft[] | undefined {
  switch (resource.resourceType) {
    case 'Procedure':
      return draft('procedure', codeText(resource.code), {
        status: resource.status,
        when: when(resource.performedDateTime ?? resource.performedPeriod?.start),
        details: notes(resource.note),
      });
    case 'Observation': {
      const value =
        quantityText(resource.valueQuantity) ??
        resource.valueString ??
        codeText(resource.valueCodeableConcept) ??
        list(resource.component)
          .map((c) => [codeText(c?.code), quantityText(c?.valueQuantity) ?? codeText(c?.valueCodeableConcept)].filter(Boolean).join(': '))
          .filter(Boolean)
          .join('; ');
      return draft('result', codeText(resource.code), {
        when: when(resource.effectiveDateTime),
        details: [value && `value: ${value}`, ...codeTexts(resource.interpretation).map((i) => `interpretation: ${i}`)],
      });
    }
    case 'DiagnosticReport':
      return draft('result', codeText(resource.code), { details: [resource.conclusion, ...codeTexts(resource.conclusionCode)] });
    case 'Immunization':
      return draft('immunization', codeText(resource.vaccineCode), { status: resource.status, when: when(resource.occurrenceDateTime) });
    case 'CarePlan':
      return [
        ...draft('plan', resource.title ?? resource.description, { details: resource.title ? [resource.description] : [] }),
        ...list(resource.activity).flatMap((a) =>
          draft('plan', a.detail?.description ?? codeText(a.detail?.code), {
            status: a.detail?.status,
            when: a.detail?.scheduledString ?? when(a.detail?.scheduledPeriod?.start),
          }),
        ),
      ];
    case 'Appointment':
      return draft('appointment', resource.description ?? codeTexts(resource.serviceType)[0] ?? codeText(resource.appointmentType) ?? 'Appointment', {
        status: resource.status,
        when: when(resource.start),
        instructions: [resource.patientInstruction],
      });
    case 'ServiceRequest':
      return draft('order', codeText(resource.code), {
        status: resource.status,
        when: when(resource.occurrenceDateTime ?? resource.occurrencePeriod?.start),
        instructions: [resource.patientInstruction],
        details: notes(resource.note),
      });
    case 'Goal':
      return draft('goal', codeText(resource.description), { status: resource.lifecycleStatus });
    default:
      return undefined;
  }
}

/**
 * `redact: false` keeps free text as written, for the fallback: it never leaves the gateway and is
 * shown only to the patient or their care team. Aliases are the same either way.
 */
export function extractFacts(bundle: Bundle, opts: { redact?: boolean } = {}): VisitFacts {
  const redact = opts.redact === false ? (t: string) => t : redactorFor(bundle);
  const entries = list(bundle.entry).filter(
    (e) => typeof e?.resource === 'object' && e.resource !== null && typeof e.resource.resourceType === 'string' && (str(e.fullUrl) || str(e.resource.id)),
  );
  const byReference = new Map<string, Resource>();
  for (const e of entries) {
    if (e.fullUrl) byReference.set(e.fullUrl, e.resource!);
    if (e.resource!.id) byReference.set(`${e.resource!.resourceType}/${e.resource!.id}`, e.resource!);
  }
  const lookup = (ref: Reference | undefined) => (ref?.reference ? byReference.get(ref.reference) : undefined);

  const facts: Fact[] = [];
  const references = new Map<string, string>();
  entries.forEach((e, i) => {
    const resource = e.resource!;
    const drafts = draftsOf(resource, lookup);
    if (!drafts.length) return;
    const ref = `${resource.resourceType}/${i + 1}`;
    references.set(ref, resource.id ? `${resource.resourceType}/${resource.id}` : e.fullUrl!);
    for (const d of drafts) {
      facts.push({
        ref,
        kind: d.kind,
        ...(d.title ? { title: redact(d.title) } : {}),
        text: redact(d.text),
        ...(d.status ? { status: d.status } : {}),
        ...(d.when ? { when: d.when } : {}),
        ...(d.instructions ? { instructions: d.instructions.map(redact) } : {}),
        ...(d.details ? { details: d.details.map(redact) } : {}),
      });
    }
  });
  return { facts, references };
}
