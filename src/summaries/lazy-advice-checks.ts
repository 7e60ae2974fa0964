import { once } from '../once.js';

/**
 * The safety checks on a model's reply, loaded with the first summary: building their word lists
 * (advice/lexicon.ts) takes about 80 ms, which every start would otherwise pay.
 */
export const adviceChecks = once(async () => {
  const [{ checkStatements, safetyFeedback }, { languageChecked }] = await Promise.all([import('./advice/statement-check.js'), import('./advice/lexicon.js')]);
  return { checkStatements, safetyFeedback, languageChecked };
});

export type AdviceChecks = Awaited<ReturnType<typeof adviceChecks>>;
