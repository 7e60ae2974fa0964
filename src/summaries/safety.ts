import { RED_FLAGS, type RedFlagHit } from './red-flags.js';
import { TARGET_GRADE, fleschKincaidGrade, gradeApplies, type ReadingLevel } from './readability.js';
import { statementsOf, type ModelOutput, type Readability, type Statement } from './schema.js';

/**
 * The checks every answer passes, whichever path wrote it: the disclaimer and the label are the
 * gateway's own fixed text (never the model's), warning signs in the record force emergency
 * advice, and the reading level is measured by the gateway.
 */

const EMERGENCY = RED_FLAGS.emergencyNumber;

export const AI_LABEL = 'AI-generated: this summary was written by an artificial intelligence model from your visit record.';
export const AI_DISCLAIMER =
  'This summary was written by artificial intelligence (AI) from your visit record. It may leave things out or contain mistakes, ' +
  'and it has not been checked by your care team. It is not medical advice and does not replace your care team. ' +
  'Do not start, stop or change any medicine because of it. Ask your care team about anything that is unclear. ' +
  `In an emergency, call ${EMERGENCY}.`;

export const FALLBACK_LABEL = 'Not AI-generated: this summary was put together automatically from the entries of your visit record, without artificial intelligence.';
export const FALLBACK_DISCLAIMER =
  'This summary was put together automatically from your visit record, without artificial intelligence. It repeats what the record says ' +
  'and has not been checked by your care team. It is not medical advice and does not replace your care team. ' +
  'Do not start, stop or change any medicine because of it. Ask your care team about anything that is unclear. ' +
  `In an emergency, call ${EMERGENCY}.`;

/** What the patient is told when the record shows no warning sign and the summary gives no advice of its own. */
export const DEFAULT_SEEK_CARE: Statement = {
  text: `Contact your care team if you have questions, if you feel worse, or if new problems start. In an emergency, call ${EMERGENCY}.`,
  sources: [],
};

function joinSigns(signs: string[]): string {
  return signs.length <= 1 ? (signs[0] ?? '') : `${signs.slice(0, -1).join('; ')}; or ${signs[signs.length - 1]}`;
}

/** Emergency advice naming every warning sign found, citing where each was found. */
export function emergencyAdvice(hits: RedFlagHit[]): Statement {
  const also = hits.flatMap((h) => (h.also ? [h.also] : []));
  return {
    text:
      `Call ${EMERGENCY} or go to the nearest emergency room right away if you have ${joinSigns(hits.map((h) => h.sign))}. ` +
      (also.length ? `${also.join(' ')} ` : '') +
      'For other questions, or if you feel worse, contact your care team.',
    sources: [...new Set(hits.flatMap((h) => h.refs))],
  };
}

/**
 * With a warning sign in the record, whenToSeekCare starts with the gateway's own emergency advice
 * naming each sign (whatever the model wrote follows it). Applying it twice changes nothing.
 */
export function enforceSeekCare(output: ModelOutput, hits: RedFlagHit[]): ModelOutput {
  if (!hits.length) return output;
  const advice = emergencyAdvice(hits);
  const current = output.whenToSeekCare;
  const text = current.text.includes(advice.text) ? current.text : `${advice.text} ${current.text}`.trim();
  return { ...output, whenToSeekCare: { text, sources: [...new Set([...advice.sources, ...current.sources])] } };
}

/** Everything the patient reads except the fixed disclaimer and label. */
export function patientTexts(output: ModelOutput): string[] {
  return statementsOf(output).map((s) => s.text);
}

export function readabilityOf(output: ModelOutput, language: string, level: ReadingLevel): Readability {
  const targetGrade = TARGET_GRADE[level];
  const grade = gradeApplies(language) ? fleschKincaidGrade(patientTexts(output)) : undefined;
  return grade === undefined ? { fleschKincaidGrade: null, targetGrade, withinTarget: null } : { fleschKincaidGrade: grade, targetGrade, withinTarget: grade <= targetGrade };
}
