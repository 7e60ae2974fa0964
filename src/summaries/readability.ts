/**
 * Flesch–Kincaid grade level, computed by the gateway so the reading level of a summary does not
 * depend on the model's own judgement. The formula (and so the syllable counter) is for English;
 * other languages get no score rather than a misleading one.
 */

// Endings that add a letter group without adding a spoken syllable ("hoped", "makes", "cake").
const SILENT_ENDINGS = /(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$/;
const VOWEL_GROUPS = /[aeiouy]+/g;

/** Syllables in one English word, by the usual vowel-group heuristic (good to about ±1 per long word). */
export function countSyllables(word: string): number {
  let w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (!w) return 0;
  if (w.length <= 3) return 1;
  w = w.replace(SILENT_ENDINGS, '').replace(/^y/, '');
  const groups = w.match(VOWEL_GROUPS)?.length ?? 0;
  return Math.max(1, groups);
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((t) => /[A-Za-z0-9]/.test(t));
}

/** Sentences end at . ! ? (not inside numbers such as "2.5"); text without one is one sentence. */
function sentenceCount(text: string): number {
  const parts = text.split(/[.!?]+(?=\s|$)/).filter((p) => /[A-Za-z0-9]/.test(p));
  return Math.max(1, parts.length);
}

/**
 * Grade level of the texts taken together; each text is at least one sentence (a bullet
 * without a full stop still ends where it ends). Undefined when there is no text.
 */
export function fleschKincaidGrade(texts: string[]): number | undefined {
  let wordTotal = 0;
  let sentenceTotal = 0;
  let syllableTotal = 0;
  for (const t of texts) {
    const ws = words(t);
    if (!ws.length) continue;
    wordTotal += ws.length;
    sentenceTotal += sentenceCount(t);
    syllableTotal += ws.reduce((n, w) => n + countSyllables(w), 0);
  }
  if (!wordTotal) return undefined;
  const grade = 0.39 * (wordTotal / sentenceTotal) + 11.8 * (syllableTotal / wordTotal) - 15.59;
  return Math.round(grade * 10) / 10;
}

export const READING_LEVELS = ['grade6', 'grade8', 'adult'] as const;
export type ReadingLevel = (typeof READING_LEVELS)[number];

/** The highest Flesch–Kincaid grade each requested level accepts ("adult": the end of high school). */
export const TARGET_GRADE: Record<ReadingLevel, number> = { grade6: 6, grade8: 8, adult: 12 };

/** Whether the formula applies to the language (a BCP-47 tag). */
export function gradeApplies(language: string): boolean {
  return /^en(?:-|$)/i.test(language);
}
