/**
 * The fixed parts of the summary's FHIR form (fhir-form.ts) that readers rely on: the AIAST
 * security label and the section titles. Shared with the patient viewer page, which finds the
 * sections by title and shows them in the reader's language, so this module imports nothing.
 */

export const AI_ASSERTED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'AIAST',
  display: 'Artificial Intelligence asserted',
} as const;

export const SUMMARY_OF_EPISODE = { system: 'http://loinc.org', code: '34133-9', display: 'Summary of episode note' } as const;

export const SUMMARY_SECTION_TITLES = {
  about: 'About this summary',
  whatHappened: 'What happened',
  diagnoses: 'Diagnoses',
  medications: 'Medicines',
  nextSteps: 'Next steps',
  whenToSeekCare: 'When to get care',
  clinicalGuidance: 'Guidance from your care team (from your record)',
  educational: 'General health information (educational, not advice about your care)',
} as const;

export type SummarySectionKey = keyof typeof SUMMARY_SECTION_TITLES;
