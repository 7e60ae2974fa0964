import type { VisitFacts } from './facts.js';
import { modelOutputSchema, statementsOf, type ModelOutput } from './schema.js';
import { patientTexts } from './safety.js';

export type OutputCheck = { ok: true; output: ModelOutput } | { ok: false; kind: 'invalid-output' | 'unknown-reference'; problem: string };

/**
 * A reply is accepted only when it matches the schema and every reference it cites is one of the
 * facts' aliases: a citation of anything else means the model wrote about something that is not
 * in this patient's record. `problem` goes back to the model on the retry (never to the log).
 */
export function checkModelOutput(input: unknown, facts: VisitFacts): OutputCheck {
  const parsed = modelOutputSchema.safeParse(input);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .slice(0, 10)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, kind: 'invalid-output', problem: `The tool input does not match its schema: ${problem}` };
  }
  const output = parsed.data;
  const cited = statementsOf(output).flatMap((s) => s.sources);
  const unknown = [...new Set(cited.filter((ref) => !facts.references.has(ref)))];
  if (unknown.length) {
    return {
      ok: false,
      kind: 'unknown-reference',
      problem: `These sources are not refs of the facts: ${unknown.slice(0, 10).join(', ')}. Cite only refs that appear in the facts, and only state what those facts say.`,
    };
  }
  if (patientTexts(output).some((t) => /<[a-z!/][^>]*>/i.test(t))) {
    return { ok: false, kind: 'invalid-output', problem: 'Write plain text only, without HTML or markup.' };
  }
  return { ok: true, output };
}
