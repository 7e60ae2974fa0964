import { z } from 'zod';
import data from '../advice-rules.json' with { type: 'json' };
import { normalizeText, tokenize } from './normalize.js';

/**
 * advice-rules.json, validated and compiled once. Every list is normalised the way texts are
 * (normalize.ts), so the file may be written with accents. The lists of all languages are merged
 * for the word matches (a Spanish summary of an English record is checked against both), while
 * number words stay per language ("once" is 1 time in English and 11 in Spanish).
 */

const ACTIONS = ['start', 'stop', 'skip', 'pause', 'double', 'halve', 'increase', 'decrease', 'switch', 'change', 'continue'] as const;
export type Action = (typeof ACTIONS)[number];

const words = z.array(z.string().min(1)).min(1);
const language = z
  .object({
    actions: z.record(z.enum(ACTIONS), words),
    negations: words,
    neutralWhenNegatedWith: words,
    neutralAfter: words,
    careTeam: words,
    conjunctions: words,
    pronouns: z.array(z.string().min(1)),
    encliticPronouns: z.array(z.string().min(1)),
    everyMedicine: words,
    medicineWords: words,
    formWords: words,
    dosingVerbs: words,
    numberWords: z.record(z.string(), z.number().nonnegative()),
    timesWords: z.record(z.string(), z.number().positive()),
    halfAddends: z.array(z.string()),
    rangeWords: words,
    perWords: words,
    everyWords: words,
    fillers: words,
    personal: words,
    imperatives: words,
    injection: words,
  })
  .strict();

const file = z
  .object({
    $comment: z.string(),
    negatedMeaning: z.partialRecord(z.enum(ACTIONS), z.enum(ACTIONS)),
    medicationStatus: z.record(z.string(), z.enum(ACTIONS)),
    units: z.record(z.string(), words),
    periodWords: z.record(z.string(), words),
    doseUnits: words,
    countUnits: words,
    medicineNames: words,
    drugStems: words,
    languages: z.record(z.string().regex(/^[a-z]{2,3}$/), language),
  })
  .strict();

const RULES = file.parse(data);

/** A phrase as token patterns: a pattern ending in * matches any token starting with it. */
export type Phrase = string[];

function phrase(p: string): Phrase {
  const tokens = tokenize(normalizeText(p.replace(/\*$/, ''))).map((t) => t.text);
  return p.endsWith('*') ? [...tokens.slice(0, -1), `${tokens[tokens.length - 1]}*`] : tokens;
}

function tokenMatches(pattern: string, token: string): boolean {
  return pattern.endsWith('*') ? token.startsWith(pattern.slice(0, -1)) && token.length >= pattern.length - 1 : token === pattern;
}

/** Where `p` matches tokens starting at i (all within one clause), or false. */
export function phraseAt(p: Phrase, tokens: { text: string; clause: number }[], i: number): boolean {
  return p.every((pat, k) => {
    const t = tokens[i + k];
    return t !== undefined && t.clause === tokens[i]!.clause && tokenMatches(pat, t.text);
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One case-insensitive regexp over normalised text for a list of phrases that may hold punctuation ("system:", "<|").
 * The phrases that start with a letter or digit share one word-start lookbehind, so the long alternation is only
 * tried where a word starts, not at every character.
 */
function phraseRegExp(list: string[]): RegExp {
  const wordStart: string[] = [];
  const other: string[] = [];
  for (const raw of list) {
    const star = raw.endsWith('*');
    const p = normalizeText(star ? raw.slice(0, -1) : raw);
    const end = star ? '\\p{L}*' : /[\p{L}\p{N}]$/u.test(p) ? '(?![\\p{L}\\p{N}])' : '';
    (/^[\p{L}\p{N}]/u.test(p) ? wordStart : other).push(`${escapeRegExp(p).replace(/ /g, '\\s+')}${end}`);
  }
  const alternatives = [...(wordStart.length ? [`(?<![\\p{L}\\p{N}])(?:${wordStart.join('|')})`] : []), ...other];
  return new RegExp(alternatives.join('|'), 'u');
}

const langs = Object.values(RULES.languages);
const all = <K extends keyof z.infer<typeof language>>(k: K) => langs.flatMap((l) => l[k] as string[]);

export interface NumberLanguage {
  numberWords: ReadonlyMap<string, number>;
  timesWords: ReadonlyMap<string, number>;
  halfAddends: Phrase[];
  rangeWords: ReadonlySet<string>;
  perWords: ReadonlySet<string>;
  everyWords: ReadonlySet<string>;
  fillers: ReadonlySet<string>;
  dosingVerbs: ReadonlySet<string>;
}

const normalizedMap = (r: Record<string, number>) => new Map(Object.entries(r).map(([k, v]) => [normalizeText(k), v]));

export const LEXICON = {
  languages: new Set(Object.keys(RULES.languages)),
  actions: ACTIONS.flatMap((action) => langs.flatMap((l) => (l.actions[action] ?? []).map((p) => ({ action, phrase: phrase(p) })))),
  negatedMeaning: RULES.negatedMeaning as Partial<Record<Action, Action>>,
  medicationStatus: new Map(Object.entries(RULES.medicationStatus)),
  negations: all('negations').map(phrase),
  neutralWhenNegated: phraseRegExp(all('neutralWhenNegatedWith')),
  neutralAfter: all('neutralAfter').map(phrase),
  careTeam: phraseRegExp(all('careTeam')),
  conjunctions: new Set(all('conjunctions').map(normalizeText)),
  pronouns: new Set(all('pronouns').map(normalizeText)),
  encliticPronouns: all('encliticPronouns').map(normalizeText),
  everyMedicine: phraseRegExp(all('everyMedicine')),
  medicineWords: new Set(all('medicineWords').map(normalizeText)),
  formWords: new Set(all('formWords').map(normalizeText)),
  drugStems: [...new Set(RULES.drugStems.map(normalizeText))],
  /** Normalised single-word names (a several-word entry is known by its first word). */
  medicineNames: [...new Set(RULES.medicineNames.map((n) => normalizeText(n).split(' ')[0]!))],
  units: new Map(Object.entries(RULES.units).flatMap(([unit, spellings]) => spellings.map((s) => [normalizeText(s), unit] as const))),
  /** "daily", "semanal": a period by itself ("times a day" = "times daily"). */
  periodWords: new Map(Object.entries(RULES.periodWords).flatMap(([unit, spellings]) => spellings.map((sp) => [normalizeText(sp), unit] as const))),
  doseUnits: new Set(RULES.doseUnits),
  countUnits: new Set(RULES.countUnits),
  numberLanguages: langs.map(
    (l): NumberLanguage => ({
      numberWords: normalizedMap(l.numberWords),
      timesWords: normalizedMap(l.timesWords),
      halfAddends: l.halfAddends.map(phrase),
      rangeWords: new Set(l.rangeWords.map(normalizeText)),
      perWords: new Set(l.perWords.map(normalizeText)),
      everyWords: new Set(l.everyWords.map(normalizeText)),
      fillers: new Set(l.fillers.map(normalizeText)),
      dosingVerbs: new Set(l.dosingVerbs.map(normalizeText)),
    }),
  ),
  personal: phraseRegExp(all('personal')),
  imperatives: all('imperatives').map(phrase),
  injection: phraseRegExp(all('injection')),
};

/** Whether summaries in this language (a BCP-47 tag) can be checked: the file has its word lists. */
export function languageChecked(tag: string): boolean {
  return LEXICON.languages.has(tag.split('-')[0]!.toLowerCase());
}
