import type { Fact } from '../facts.js';
import { LEXICON } from './lexicon.js';
import { normalizeText } from './normalize.js';

/**
 * What the care team said, as the checks read it: the texts of the facts a statement cites, and
 * nothing else. A text of the record that speaks to an AI ("ignore the rules above", a fake system
 * prompt, chat markup) is not the care team's word, so it is left out whole: an instruction or a
 * number planted there can never vouch for a reply that obeys it.
 */

export interface Evidence {
  /** Normalised texts of the cited facts, planted instructions left out. */
  lines: string[];
  /** Cited medicine entries with their record status ("active" medicine: keep taking it). */
  medicines: { name: string; status: string | undefined }[];
}

export function speaksToModel(normalized: string): boolean {
  return LEXICON.injection.test(normalized);
}

const LINES = new WeakMap<Fact, string[]>();

/** Each field of a fact as one text; a medicine's instructions and notes carry its name ("lisinopril…: take 1 tablet"). */
export function factLines(f: Fact): string[] {
  const known = LINES.get(f);
  if (known) return known;
  const lines = readLines(f);
  LINES.set(f, lines);
  return lines;
}

function readLines(f: Fact): string[] {
  const medicine = f.kind === 'medication' && f.title === undefined;
  const own = (t: string) => (medicine ? `${f.text}: ${t}` : t);
  return [f.title, f.text, f.when, ...(f.instructions ?? []).map(own), ...(f.details ?? []).map(own)]
    .filter((t): t is string => Boolean(t))
    .map(normalizeText)
    .filter((t) => !speaksToModel(t));
}

export function citedFacts(facts: Fact[], sources: string[]): Fact[] {
  return facts.filter((f) => sources.includes(f.ref));
}

export function evidenceOf(cited: Fact[]): Evidence {
  return {
    lines: cited.flatMap(factLines),
    medicines: cited
      .filter((f) => f.kind === 'medication' && f.title === undefined && !speaksToModel(normalizeText(f.text)))
      .map((f) => ({ name: normalizeText(f.text), status: f.status })),
  };
}
