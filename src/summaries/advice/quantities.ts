import { LEXICON, phraseAt, type NumberLanguage } from './lexicon.js';
import { tokenize, type Token } from './normalize.js';

/**
 * Numbers with a unit or dose form in a normalised text: digits ("200mg", "1,5 mg", "1 1/2",
 * "½" already spelled "1/2"), number words of each language ("two tablets", "dos tabletas",
 * "twice", "una vez", "half a tablet"), ranges ("2 to 3 times"). A number right after a dosing
 * verb ("take 2") is a dose. Each number keeps every value its spelling can mean ("1,000" is a
 * thousand in one locale and one in another), so a comparison never depends on guessing the locale.
 */

export interface Quantity {
  /** Canonical numeric strings the number can mean (and "a/b" for a written ratio such as 142/90). */
  values: string[];
  unit: string;
}

const fmt = (n: number) => String(Number(n.toFixed(6)));

function digitValues(t: string): string[] {
  if (t.includes('/')) {
    const [a, b] = t.split('/').map(Number);
    return b ? [t, fmt(a! / b)] : [t];
  }
  const m = /^(\d+)([.,])(\d+)$/.exec(t);
  if (m) return m[3]!.length === 3 ? [fmt(Number(`${m[1]}.${m[3]}`)), fmt(Number(m[1]! + m[3]!))] : [fmt(Number(`${m[1]}.${m[3]}`))];
  return [fmt(Number(t.replace(/[.,]/g, '')))];
}

const isWord = (t: Token | undefined) => t !== undefined && /^\p{L}/u.test(t.text);
const numeric = (values: string[]) => values.filter((v) => !v.includes('/')).map(Number);
const combine = (a: string[], b: string[], op: (x: number, y: number) => number) => numeric(a).flatMap((x) => numeric(b).map((y) => fmt(op(x, y))));

function valuesAt(tokens: Token[], i: number, lang: NumberLanguage): string[] | undefined {
  const t = tokens[i]?.text;
  if (t === undefined) return undefined;
  if (/^\d/.test(t)) return digitValues(t);
  const word = lang.numberWords.get(t);
  return word === undefined ? undefined : [fmt(word)];
}

/** A group of numbers from i: mixed numbers, compound number words, "and a half", ranges. */
function numberGroup(tokens: Token[], i: number, lang: NumberLanguage): { values: string[][]; end: number } | undefined {
  let last = valuesAt(tokens, i, lang);
  if (!last) return undefined;
  const values: string[][] = [];
  let j = i + 1;
  for (;;) {
    if (tokens[j]?.clause !== tokens[i]!.clause) break;
    const next = valuesAt(tokens, j, lang);
    const half = lang.halfAddends.find((p) => phraseAt(p, tokens, j));
    if (next && numeric(next).some((n) => n < 1) && numeric(last).every((n) => n >= 1)) last = combine(last, next, (x, y) => x + y);
    else if (next && numeric(next).some((n) => n >= 100) && isWord(tokens[j])) last = combine(last, next, (x, y) => x * y);
    else if (next && isWord(tokens[j]) && isWord(tokens[j - 1]) && numeric(last).every((n) => n >= 20 && n % 10 === 0) && numeric(next).every((n) => n > 0 && n < 10))
      last = combine(last, next, (x, y) => x + y);
    else if (next && !isWord(tokens[j]) && !isWord(tokens[j - 1])) {
      // "2-3 tablets": the tokenizer dropped the dash of a range.
      values.push(last);
      last = next;
    } else if (half) {
      last = combine(last, ['0.5'], (x, y) => x + y);
      j += half.length;
      continue;
    } else if (lang.rangeWords.has(tokens[j]?.text ?? '') && valuesAt(tokens, j + 1, lang)) {
      values.push(last);
      last = valuesAt(tokens, j + 1, lang)!;
      j += 2;
      continue;
    } else break;
    j += 1;
  }
  values.push(last);
  return { values, end: j };
}

function unitAfter(tokens: Token[], j: number, lang: NumberLanguage): { unit: string; at: number } | undefined {
  for (let k = j; k < j + 3 && tokens[k] && tokens[k]!.clause === tokens[j - 1]?.clause; k++) {
    const unit = LEXICON.units.get(tokens[k]!.text);
    if (unit) return { unit, at: k };
    if (!lang.fillers.has(tokens[k]!.text)) return undefined;
  }
  return undefined;
}

const PERIODS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);

/** The period a count of times is per ("twice a day", "2 veces al día", "3 times daily"), read from `j` on. */
function periodAfter(tokens: Token[], j: number, lang: NumberLanguage): string | undefined {
  for (let k = j; k < j + 3 && tokens[k] && tokens[k]!.clause === tokens[j - 1]?.clause; k++) {
    const t = tokens[k]!.text;
    const period = LEXICON.periodWords.get(t) ?? LEXICON.units.get(t);
    if (period && PERIODS.has(period)) return period;
    if (!lang.perWords.has(t)) return undefined;
  }
  return undefined;
}

/** A count of times with its period when one is given ("times/day"): once a week is not once a day. */
const timesPer = (tokens: Token[], j: number, lang: NumberLanguage) => {
  const period = periodAfter(tokens, j, lang);
  return period ? `times/${period}` : 'times';
};

/** "every hour", "hourly", "cada día": once per that period, with no number written. */
function everyPeriod(tokens: Token[], i: number, lang: NumberLanguage): string | undefined {
  const t = tokens[i]!.text;
  const next = tokens[i + 1];
  const unit = lang.everyWords.has(t) && next?.clause === tokens[i]!.clause ? LEXICON.units.get(next.text) : undefined;
  const period = unit ?? LEXICON.periodWords.get(t);
  return period && PERIODS.has(period) ? `times/${period}` : undefined;
}

function quantitiesFor(tokens: Token[], lang: NumberLanguage): Quantity[] {
  const found: Quantity[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const times = lang.timesWords.get(tokens[i]!.text);
    if (times !== undefined) {
      found.push({ values: [fmt(times)], unit: timesPer(tokens, i + 1, lang) });
      continue;
    }
    const every = everyPeriod(tokens, i, lang);
    if (every) found.push({ values: ['1'], unit: every });
    const group = numberGroup(tokens, i, lang);
    if (!group) continue;
    const dosed = [tokens[i - 1], tokens[i - 2]].some((t) => t && t.clause === tokens[i]!.clause && lang.dosingVerbs.has(t.text));
    const after = unitAfter(tokens, group.end, lang);
    const unit = after?.unit === 'times' ? timesPer(tokens, after.at + 1, lang) : (after?.unit ?? (dosed ? 'dose' : undefined));
    if (unit) found.push(...group.values.map((values) => ({ values, unit })));
    i = group.end - 1;
  }
  return found;
}

/** Every quantity of the text, read with each language's number words. */
export function quantitiesIn(normalized: string): Quantity[] {
  const tokens = tokenize(normalized);
  const all = LEXICON.numberLanguages.flatMap((lang) => quantitiesFor(tokens, lang));
  const seen = new Set<string>();
  return all.filter((q) => {
    const key = `${q.unit}:${q.values.join('|')}`;
    return !seen.has(key) && seen.add(key);
  });
}

/** A bare dose ("take 2") is a count: it agrees with tablets, puffs, drops, units, never with mg ("take 10" is not "10 mg"); counts of times agree by period. */
function unitsAgree(a: string, b: string): boolean {
  return a === b || (a === 'dose' && LEXICON.countUnits.has(b)) || (b === 'dose' && LEXICON.countUnits.has(a)) || timesAgree(a, b);
}

/** Counts of times agree when their periods do, or one of them gives none ("twice" and "twice a day"). */
function timesAgree(a: string, b: string): boolean {
  const [ua, pa] = a.split('/');
  const [ub, pb] = b.split('/');
  return ua === 'times' && ub === 'times' && (pa === undefined || pb === undefined || pa === pb);
}

/** The evidence's quantities by value (each value → its units), so a statement's number is looked up, not compared with every number of a long note. */
export type QuantityIndex = ReadonlyMap<string, ReadonlySet<string>>;

export function quantityIndex(evidence: Quantity[]): QuantityIndex {
  const index = new Map<string, Set<string>>();
  for (const q of evidence) for (const v of q.values) index.set(v, (index.get(v) ?? new Set()).add(q.unit));
  return index;
}

/** Whether the evidence holds the same number (any of its meanings) with a compatible unit. */
export function quantitySupported(q: Quantity, evidence: QuantityIndex): boolean {
  return q.values.some((v) => [...(evidence.get(v) ?? [])].some((unit) => unitsAgree(q.unit, unit)));
}
