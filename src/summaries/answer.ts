import type { VisitFacts } from './facts.js';
import type { RedFlagHit } from './red-flags.js';
import { AI_DISCLAIMER, AI_LABEL, FALLBACK_DISCLAIMER, FALLBACK_LABEL, enforceSeekCare, readabilityOf } from './safety.js';
import { statementsOf, type FallbackReason, type ModelOutput, type PlainLanguageSummary, type Statement } from './schema.js';
import type { CacheKey } from './summary-cache.js';

export type Origin = { aiGenerated: true; model: string } | { aiGenerated: false; fallbackReason: FallbackReason };

/**
 * The answer in its JSON form, whichever path wrote the output: the safety checks applied again
 * (the fallback has not been through them), the gateway's disclaimer and label, the reading level
 * measured, and the facts' aliases turned back into the Bundle's references.
 */
export function buildAnswer(a: { output: ModelOutput; facts: VisitFacts; redFlags: RedFlagHit[]; key: CacheKey; origin: Origin; generatedAt: string }): PlainLanguageSummary {
  const output = enforceSeekCare(a.output, a.redFlags);
  const cite = (s: Statement): Statement => ({
    text: s.text,
    sources: [...new Set(s.sources.map((ref) => a.facts.references.get(ref)).filter((r): r is string => r !== undefined))],
  });
  const mapped: ModelOutput = {
    whatHappened: cite(output.whatHappened),
    diagnoses: output.diagnoses.map(cite),
    medications: output.medications.map(cite),
    nextSteps: output.nextSteps.map(cite),
    whenToSeekCare: cite(output.whenToSeekCare),
    educational: output.educational.map(cite),
    clinicalGuidance: output.clinicalGuidance.map(cite),
  };
  const ai = a.origin.aiGenerated;
  return {
    visitId: a.key.visitId,
    visitVersion: a.key.visitVersion,
    language: a.key.language,
    readingLevel: a.key.readingLevel,
    summary: {
      whatHappened: mapped.whatHappened,
      diagnoses: mapped.diagnoses,
      medications: mapped.medications,
      nextSteps: mapped.nextSteps,
      whenToSeekCare: mapped.whenToSeekCare,
    },
    educational: mapped.educational,
    clinicalGuidance: mapped.clinicalGuidance,
    aiGenerated: ai,
    label: ai ? AI_LABEL : FALLBACK_LABEL,
    disclaimer: ai ? AI_DISCLAIMER : FALLBACK_DISCLAIMER,
    model: a.origin.aiGenerated ? a.origin.model : null,
    generatedAt: a.generatedAt,
    sources: [...new Set(statementsOf(mapped).flatMap((s) => s.sources))],
    readability: readabilityOf(output, a.key.language, a.key.readingLevel),
    redFlags: a.redFlags.map((h) => h.id),
    ...(a.origin.aiGenerated ? {} : { fallbackReason: a.origin.fallbackReason }),
  };
}

/** A stored answer back in the model's terms (Bundle references turned into the facts' aliases), to check it again. */
export function outputOf(answer: PlainLanguageSummary, facts: VisitFacts): ModelOutput {
  const alias = new Map([...facts.references].map(([a, ref]) => [ref, a]));
  const cite = (s: Statement): Statement => ({ text: s.text, sources: s.sources.map((ref) => alias.get(ref) ?? ref) });
  return {
    whatHappened: cite(answer.summary.whatHappened),
    diagnoses: answer.summary.diagnoses.map(cite),
    medications: answer.summary.medications.map(cite),
    nextSteps: answer.summary.nextSteps.map(cite),
    whenToSeekCare: cite(answer.summary.whenToSeekCare),
    educational: answer.educational.map(cite),
    clinicalGuidance: answer.clinicalGuidance.map(cite),
  };
}
