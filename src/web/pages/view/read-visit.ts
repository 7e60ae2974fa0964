import { conceptText, conceptsText, isObject, list, narrativeBlocks, resourceName, str, type Json, type ResourceIndex } from './fhir-read.js';

/** The visit document read into the parts the record shows; each part keeps its resource so citations can point at it. */

const LOINC = 'http://loinc.org';
type NoteKind = 'happened' | 'diagnoses' | 'medicines' | 'next';
const SECTION_CODES: Record<Exclude<NoteKind, 'happened'>, Set<string>> = {
  next: new Set(['18776-5', '69730-0', '8653-8', '61146-7', '42348-3']),
  diagnoses: new Set(['11450-4', '29548-5', '51848-0', '11535-2', '46241-6']),
  medicines: new Set(['10160-0', '29549-3', '10183-2', '57828-6', '75311-1']),
};
const SECTION_TITLES: Record<Exclude<NoteKind, 'happened'>, RegExp> = {
  next: /instruction|plan|follow|next|what to do|care at home|goal/i,
  diagnoses: /diagnos|problem|assessment|condition/i,
  medicines: /medic|prescri|drug/i,
};
/** A diagnoses or medicines section whose entries are all listed anyway does not repeat them as narrative. */
const LISTED: Partial<Record<NoteKind, Set<string>>> = { diagnoses: new Set(['Condition']), medicines: new Set(['MedicationRequest', 'MedicationStatement']) };

export interface Note {
  title: string | undefined;
  blocks: { text: string; item: boolean }[];
}

export interface VisitRecord {
  composition: Json | undefined;
  encounter: Json | undefined;
  title: string | undefined;
  /** ISO date or date-time strings, formatted by the page in its language. */
  date: string | undefined;
  place: string | undefined;
  seenBy: string[];
  from: string[];
  visitType: string[];
  reasons: string[];
  notes: Record<NoteKind, Note[]>;
  diagnoses: { resource: Json; name: string | undefined; resolved: boolean }[];
  medicines: { resource: Json; name: string | undefined; dosage: string[]; stopped: boolean }[];
  plans: { resource: Json; title: string | undefined; description: string | undefined; activities: string[] }[];
  appointments: { resource: Json; start: string; what: string | undefined; with: string[] }[];
}

function sectionKind(section: Json, inherited: NoteKind): NoteKind {
  const codes = list(isObject(section.code) ? section.code.coding : undefined)
    .filter((c) => c.system === LOINC)
    .map((c) => String(c.code));
  const title = `${str(section.title) ?? ''} ${conceptText(section.code) ?? ''}`;
  for (const kind of ['next', 'medicines', 'diagnoses'] as const) {
    if (codes.some((c) => SECTION_CODES[kind].has(c)) || SECTION_TITLES[kind].test(title)) return kind;
  }
  return inherited;
}

/** Display names of references, each once. */
function names(refs: unknown, index: ResourceIndex): string[] {
  const all = list(refs)
    .map((r) => str(r.display) ?? resourceName(index.resolve(r)))
    .filter((n): n is string => Boolean(n));
  return all.filter((v, i) => all.indexOf(v) === i);
}

function readNotes(composition: Json | undefined, index: ResourceIndex): Record<NoteKind, Note[]> {
  const notes: Record<NoteKind, Note[]> = { happened: [], diagnoses: [], medicines: [], next: [] };
  const addSections = (sections: unknown, inherited: NoteKind) => {
    for (const s of list(sections)) {
      const kind = sectionKind(s, inherited);
      const entries = list(s.entry)
        .map((e) => index.resolve(e))
        .filter((r): r is Json => Boolean(r));
      const listed = LISTED[kind];
      const onlyListed = entries.length > 0 && listed !== undefined && entries.every((r) => listed.has(String(r.resourceType)));
      const blocks = onlyListed ? [] : narrativeBlocks(isObject(s.text) ? s.text.div : undefined);
      if (blocks.length) notes[kind].push({ title: str(s.title), blocks });
      addSections(s.section, kind);
    }
  };
  addSections(composition?.section, 'happened');
  return notes;
}

export function readVisit(bundle: Json, index: ResourceIndex): VisitRecord {
  const resources = list(bundle.entry)
    .map((e) => e.resource)
    .filter((r): r is Json => isObject(r) && typeof r.resourceType === 'string');
  const ofType = (type: string) => resources.filter((r) => r.resourceType === type);
  const composition = ofType('Composition')[0];
  const encounter = index.resolve(composition?.encounter) ?? ofType('Encounter')[0];

  const medicineName = (m: Json) =>
    conceptText(m.medicationCodeableConcept) ??
    conceptText(index.resolve(m.medicationReference)?.code) ??
    (isObject(m.medicationReference) ? str(m.medicationReference.display) : undefined);
  const period = isObject(encounter?.period) ? encounter.period : undefined;
  return {
    composition,
    encounter,
    title: str(composition?.title),
    date: str(period?.start) ?? str(composition?.date),
    place:
      (isObject(encounter?.serviceProvider) ? str(encounter.serviceProvider.display) : undefined) ??
      resourceName(index.resolve(encounter?.serviceProvider)) ??
      resourceName(index.resolve(composition?.custodian)),
    seenBy: names(
      list(encounter?.participant).map((p) => p.individual),
      index,
    ),
    from: names(composition?.author, index),
    visitType: conceptsText(encounter?.type),
    reasons: [...conceptsText(encounter?.reasonCode), ...list(encounter?.reasonReference).map((r) => conceptText(index.resolve(r)?.code) ?? str(r.display))].filter(
      (t): t is string => Boolean(t),
    ),
    notes: readNotes(composition, index),
    diagnoses: ofType('Condition')
      .filter((c) => conceptText(c.verificationStatus) !== 'entered-in-error')
      .map((c) => ({ resource: c, name: conceptText(c.code), resolved: conceptText(c.clinicalStatus) === 'resolved' })),
    medicines: [...ofType('MedicationRequest'), ...ofType('MedicationStatement')]
      .filter((m) => m.status !== 'entered-in-error')
      .map((m) => ({
        resource: m,
        name: medicineName(m),
        dosage: list(m.dosageInstruction ?? m.dosage)
          .map((d) => str(d.text))
          .filter((t): t is string => Boolean(t)),
        stopped: m.status === 'stopped' || m.status === 'cancelled',
      })),
    plans: ofType('CarePlan').map((p) => ({
      resource: p,
      title: str(p.title) ?? conceptsText(p.category)[0],
      description: str(p.description),
      activities: list(p.activity)
        .map((a) => (isObject(a.detail) ? (str(a.detail.description) ?? conceptText(a.detail.code)) : undefined))
        .filter((t): t is string => Boolean(t)),
    })),
    appointments: ofType('Appointment')
      .filter((a) => ['proposed', 'pending', 'booked', 'waitlist'].includes(String(a.status)) && typeof a.start === 'string')
      .sort((a, b) => Date.parse(String(a.start)) - Date.parse(String(b.start)))
      .map((a) => ({
        resource: a,
        start: String(a.start),
        what: str(a.description) ?? conceptsText(a.serviceType)[0] ?? conceptText(a.appointmentType),
        with: names(
          list(a.participant)
            .map((p) => p.actor)
            .filter((r) => isObject(r) && index.resolve(r)?.resourceType !== 'Patient' && !/(^|\/)Patient\//.test(String(r.reference ?? ''))),
          index,
        ),
      })),
  };
}
