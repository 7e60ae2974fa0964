import { z } from 'zod';
import type { ReadingLevel } from './readability.js';

/**
 * The shape of a summary, as the model must produce it (the tool's input schema is generated from
 * these zod schemas, so what is asked and what is checked cannot drift apart) and as the gateway
 * answers it.
 */

const MAX_TEXT = 700;
const MAX_ITEMS = 25;

/** One sentence or short paragraph for the patient, with the record entries it came from. */
export const statementSchema = z
  .object({
    text: z.string().trim().min(1).max(MAX_TEXT),
    sources: z.array(z.string().min(1).max(200)).max(MAX_ITEMS),
  })
  .strict();

/** A restatement of the record must cite at least one entry of it. */
const citedStatement = statementSchema.extend({ sources: statementSchema.shape.sources.min(1) });

export const modelOutputSchema = z
  .object({
    whatHappened: citedStatement.describe('What the visit was for and what was done, from the record'),
    diagnoses: z.array(citedStatement).max(MAX_ITEMS).describe('Each diagnosis or problem recorded, explained plainly'),
    medications: z.array(citedStatement).max(MAX_ITEMS).describe('Each medicine recorded and how the care team said to take it, unchanged'),
    nextSteps: z.array(citedStatement).max(MAX_ITEMS).describe('Follow-up visits, tests, referrals and tasks recorded'),
    whenToSeekCare: statementSchema.describe('When to contact the care team, and when to call 911 or go to the emergency room'),
    educational: z.array(citedStatement).max(MAX_ITEMS).describe('General background about a condition, medicine or test in the record; not personal advice'),
    clinicalGuidance: z.array(citedStatement).max(MAX_ITEMS).describe('Only what the care team advised or ordered for this patient, as recorded'),
  })
  .strict();

export type Statement = z.infer<typeof statementSchema>;
export type ModelOutput = z.infer<typeof modelOutputSchema>;

/** Every statement of an output, in reading order. */
export function statementsOf(o: ModelOutput): Statement[] {
  return [o.whatHappened, ...o.diagnoses, ...o.medications, ...o.nextSteps, o.whenToSeekCare, ...o.educational, ...o.clinicalGuidance];
}

/** JSON Schema for the tool's input_schema (the $schema keyword is not part of a tool definition). */
export function modelOutputJsonSchema(): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(modelOutputSchema) as Record<string, unknown>;
  return schema;
}

/** `unsafe-advice`: a reply broke a safety rule (advice/statement-check.ts); `unchecked-language`: no word lists for the language, so no reply could be checked. */
export type FallbackReason = 'no-api-key' | 'invalid-output' | 'unknown-reference' | 'unsafe-advice' | 'unchecked-language' | 'timeout' | 'api-error';

export interface Readability {
  /** Flesch–Kincaid grade of everything the patient reads except the fixed disclaimer; null where the formula does not apply. */
  fleschKincaidGrade: number | null;
  targetGrade: number;
  withinTarget: boolean | null;
}

/** The answer of POST /visits/{id}/$plain-language-summary (JSON form). */
export interface PlainLanguageSummary {
  visitId: string;
  visitVersion: number;
  language: string;
  readingLevel: ReadingLevel;
  summary: Pick<ModelOutput, 'whatHappened' | 'diagnoses' | 'medications' | 'nextSteps' | 'whenToSeekCare'>;
  educational: Statement[];
  clinicalGuidance: Statement[];
  aiGenerated: boolean;
  /** One line saying how this text was made (AI or assembled from the record). */
  label: string;
  disclaimer: string;
  /** The Claude model that wrote it; null for the deterministic summary. */
  model: string | null;
  generatedAt: string;
  /** Every record entry cited anywhere in the answer. */
  sources: string[];
  readability: Readability;
  /** Ids of the red-flag signs found in the record (red-flags.json). */
  redFlags: string[];
  fallbackReason?: FallbackReason;
}
