import type { Bundle, Coding, Composition, CompositionSection, Identifier } from '@medplum/fhirtypes';
import type { PlainLanguageSummary, Statement } from './schema.js';

/**
 * The summary as a FHIR Composition (Accept: application/fhir+json). An AI-written one carries the
 * HL7 security label AIAST "Artificial Intelligence asserted" from the v3 ObservationValue code
 * system in meta.security, as the HL7 AI Transparency on FHIR IG recommends for content an AI
 * produced (its ValueSet ProvenanceVS, http://hl7.org/fhir/uv/aitransparency/ValueSet/ProvenanceVS,
 * includes v3-ObservationValue#AIAST "for use in .meta.security to indicate AI was used").
 * The resource narrative carries the label and the disclaimer; each section cites, as entries,
 * the record entries its statements came from.
 */

export const AI_ASSERTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'AIAST',
  display: 'Artificial Intelligence asserted',
};

const SUMMARY_OF_EPISODE: Coding = { system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function div(inner: string): string {
  return `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
}

function section(title: string, statements: Statement[]): CompositionSection {
  const refs = [...new Set(statements.flatMap((s) => s.sources))];
  const body = statements.length ? statements.map((s) => `<p>${escapeXml(s.text)}</p>`).join('') : '<p>Nothing recorded.</p>';
  return {
    title,
    text: { status: 'generated', div: div(body) },
    ...(refs.length ? { entry: refs.map((reference) => ({ reference })) } : {}),
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
  const visitComposition = (Array.isArray(visitBundle.entry) ? visitBundle.entry : []).find((e) => e?.resource?.resourceType === 'Composition')
    ?.resource as Composition | undefined;
  const subject = referenceTo(visitComposition?.subject);
  const encounter = referenceTo(visitComposition?.encounter);
  const documentId = documentIdentifier(visitBundle);
  const s = answer.summary;
  return {
    resourceType: 'Composition',
    ...(answer.aiGenerated ? { meta: { security: [AI_ASSERTED] } } : {}),
    language: answer.language,
    text: {
      status: 'generated',
      div: div(`<p><b>${escapeXml(answer.label)}</b></p><p>${escapeXml(answer.disclaimer)}</p>`),
    },
    // Nobody on the care team has reviewed it.
    status: 'preliminary',
    type: { coding: [SUMMARY_OF_EPISODE], text: 'Plain-language visit summary' },
    ...(subject ? { subject } : {}),
    ...(encounter ? { encounter } : {}),
    date: answer.generatedAt,
    author: [{ display: answer.model ? `ktc-gateway plain-language summary, written by AI model ${answer.model}` : 'ktc-gateway plain-language summary (no AI)' }],
    title: answer.aiGenerated ? 'Your visit in plain language (AI-generated)' : 'Your visit in plain language',
    ...(documentId ? { relatesTo: [{ code: 'transforms', targetIdentifier: documentId }] } : {}),
    section: [
      section('About this summary', [{ text: `${answer.label} ${answer.disclaimer}`, sources: [] }]),
      section('What happened', [s.whatHappened]),
      section('Diagnoses', s.diagnoses),
      section('Medicines', s.medications),
      section('Next steps', s.nextSteps),
      section('When to get care', [s.whenToSeekCare]),
      section('Guidance from your care team (from your record)', answer.clinicalGuidance),
      section('General health information (educational, not advice about your care)', answer.educational),
    ],
  };
}
