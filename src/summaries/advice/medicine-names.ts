import type { Fact } from '../facts.js';
import { LEXICON } from './lexicon.js';
import { normalizeText, tokenize } from './normalize.js';

/**
 * Medicine names as the checks compare them: one key per name whatever its spelling or language
 * ("amoxicillin" = "amoxicilina", "ibuprofen" = "ibuprofeno"): accents gone, doubled letters
 * single, a trailing vowel or plural dropped.
 */
export function nameKey(token: string): string {
  return token.replace(/(\p{L})\1+/gu, '$1').replace(/[aeo]?s?$/, '');
}

const isWord = (t: string) => /^\p{L}{4,}$/u.test(t);
const generic = (t: string) => LEXICON.formWords.has(t) || LEXICON.medicineWords.has(t) || LEXICON.units.has(t);

/** A word shaped like a medicine's generic name (USAN/INN stems: -pril, -olol, -statin, -cillin…). */
function hasDrugStem(token: string): boolean {
  return isWord(token) && LEXICON.drugStems.some((stem) => token.length >= stem.length + 3 && token.endsWith(stem));
}

/** Keys of the medicine names the record's medicine entries give ("lisinopril" of "lisinopril 10 MG Oral Tablet"). */
export function recordMedicineNames(facts: Fact[]): Set<string> {
  const keys = facts
    .filter((f) => f.kind === 'medication' && f.title === undefined)
    .flatMap((f) => tokenize(normalizeText(f.text)).map((t) => t.text))
    .filter((t) => isWord(t) && !generic(t))
    .map(nameKey);
  return new Set(keys);
}

const LISTED = new Set(LEXICON.medicineNames.map(nameKey));

/** Keys of the medicine names among tokens: a name of the record or of the word list, or a word with a drug stem. */
export function medicineNamesIn(tokens: string[], known: ReadonlySet<string>): Set<string> {
  return new Set(tokens.filter((t) => isWord(t) && !generic(t) && (hasDrugStem(t) || known.has(nameKey(t)) || LISTED.has(nameKey(t)))).map(nameKey));
}
