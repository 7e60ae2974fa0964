import type { Fact } from '../facts.js';
import { factLines } from './evidence.js';
import { LEXICON, phraseAt } from './lexicon.js';
import { sentences, tokenize } from './normalize.js';

/**
 * Where a statement may say what. `educational` is general background: a statement that addresses
 * the patient's own care ("you should…", "your dose…", a sentence starting with an order such as
 * "Take…") belongs elsewhere. `clinicalGuidance` repeats the care team's advice, so it must cite an
 * instruction, order, plan, appointment, goal, care-team note or prescribed medicine of the record.
 */

export function addressesOwnCare(normalized: string): boolean {
  if (LEXICON.personal.test(normalized)) return true;
  return sentences(normalized).some((s) => {
    const tokens = tokenize(s);
    return LEXICON.imperatives.some((p) => phraseAt(p, tokens, 0));
  });
}

const CARE_TEAM_KINDS = new Set<Fact['kind']>(['instructions', 'plan', 'order', 'appointment', 'goal', 'note']);

/** An entry where the care team advises or orders (not a planted instruction: a fact with no care-team text left does not count). */
export function isCareTeamAdvice(f: Fact): boolean {
  const advises = CARE_TEAM_KINDS.has(f.kind) || (f.kind === 'medication' && Boolean(f.instructions?.length));
  return advises && factLines(f).length > 0;
}
