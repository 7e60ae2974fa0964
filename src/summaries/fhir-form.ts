import type { Bundle, Composition, CompositionSection, Identifier } from '@medplum/fhirtypes';
import type { FhirValidator } from '../fhir/validator.js';
import { AI_ASSERTED, SUMMARY_OF_EPISODE, SUMMARY_SECTION_TITLES as TITLE } from './fhir-form-codes.js';
import type { PlainLanguageSummary, Statement } from './schema.js';

/**
 * The summary as a FHIR Composition (Accept: application/fhir+json). An AI-written one carries the
 * HL7 security label AIAST "Artificial Intelligence asserted" from the v3 ObservationValue code
 * system in meta.security, as the HL7 AI Transparency on FHIR IG recommends for content an AI
 * produced (its ValueSet ProvenanceVS, http://hl7.org/fhir/uv/aitransparency/ValueSet/ProvenanceVS,
 * includes v3-ObservationValue#AIAST "for use in .meta.security to indicate AI was used").
 * The resource narrative carries the label and the disclaimer; each section cites, as entries,
 * the record entries its statements came from, and holds one sub-section per statement with that
 * statement's own citations, so a reader can link each sentence to the entries it came from.
 */

export { AI_ASSERTED };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function div(inner: string): string {
  return `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
}

const entries = (refs: string[]) => (refs.length ? { entry: [...new Set(refs)].map((reference) => ({ reference })) } : {});

function section(title: string, statements: Statement[]): CompositionSection {
  const body = statements.length ? statements.map((s) => `<p>${escapeXml(s.text)}</p>`).join('') : '<p>Nothing recorded.</p>';
  return {
    title,
    text: { status: 'generated', div: div(body) },
    ...entries(statements.flatMap((s) => s.sources)),
    ...(statements.length ? { section: statements.map((s) => ({ text: { status: 'generated' as const, div: div(`<p>${escapeXml(s.text)}</p>`) }, ...entries(s.sources) })) } : {}),
  };
}

/** A reference copied from the visit document, only when it is a plain string (the summary must validate). */
function referenceTo(value: unknown): { reference: string } | undefined {
  const ref = (value as { reference?: unknown } | undefined)?.reference;
  return typeof ref === 'string' && ref ? { reference: ref } : undefined;
}

function documentIdentifier(bundle: Bundle): Identifier | undefined {
  const { system, value } = bundle.identifier ?? {};
  return typeof value === 'string' && value ? { ...(typeof system === 'string' && system ? { system } : {}), value } : undefined;
}

export function summaryComposition(answer: PlainLanguageSummary, visitBundle: Bundle): Composition {
  const visitComposition = (Array.isArray(visitBundle.entry) ? visitBundle.entry : []).find((e) => e?.resource?.resourceType === 'Composition')?.resource as
    | Composition
    | undefined;
  const subject = referenceTo(visitComposition?.subject);
  const encounter = referenceTo(visitComposition?.encounter);
  const documentId = documentIdentifier(visitBundle);
  const s = answer.summary;
  return {
    resourceType: 'Composition',
    ...(answer.aiGenerated ? { meta: { security: [{ ...AI_ASSERTED }] } } : {}),
    language: answer.language,
    text: {
      status: 'generated',
      div: div(`<p><b>${escapeXml(answer.label)}</b></p><p>${escapeXml(answer.disclaimer)}</p>`),
    },
    // Nobody on the care team has reviewed it.
    status: 'preliminary',
    type: { coding: [{ ...SUMMARY_OF_EPISODE }], text: 'Plain-language visit summary' },
    ...(subject ? { subject } : {}),
    ...(encounter ? { encounter } : {}),
    date: answer.generatedAt,
    author: [{ display: answer.model ? `ktc-gateway plain-language summary, written by AI model ${answer.model}` : 'ktc-gateway plain-language summary (no AI)' }],
    title: answer.aiGenerated ? 'Your visit in plain language (AI-generated)' : 'Your visit in plain language',
    ...(documentId ? { relatesTo: [{ code: 'transforms', targetIdentifier: documentId }] } : {}),
    section: [
      section(TITLE.about, [{ text: `${answer.label} ${answer.disclaimer}`, sources: [] }]),
      section(TITLE.whatHappened, [s.whatHappened]),
      section(TITLE.diagnoses, s.diagnoses),
      section(TITLE.medications, s.medications),
      section(TITLE.nextSteps, s.nextSteps),
      section(TITLE.whenToSeekCare, [s.whenToSeekCare]),
      section(TITLE.clinicalGuidance, answer.clinicalGuidance),
      section(TITLE.educational, answer.educational),
    ],
  };
}

/** The FHIR form, validated: the gateway built it, so a failure is a defect (500), never sent on. */
export function checkedSummaryComposition(answer: PlainLanguageSummary, visitBundle: Bundle, fhir: Pick<FhirValidator, 'check'>): Composition {
  const composition = summaryComposition(answer, visitBundle);
  const issues = fhir.check(composition);
  if (issues.length) throw new Error(`summary Composition fails validation: ${issues.map((i) => i.expression?.join(',')).join('; ')}`);
  return composition;
}
