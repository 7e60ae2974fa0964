import { LEXICON, phraseAt, type Action } from './lexicon.js';
import type { Evidence } from './evidence.js';
import { medicineNamesIn } from './medicine-names.js';
import { tokenize, type Token } from './normalize.js';
import { quantitiesIn } from './quantities.js';

/**
 * Advice to start, stop, skip, pause, double, halve, increase, decrease, switch, change or continue
 * a medicine or dose, found the same way in a statement and in the record. An action word counts
 * only when its clause names a medicine, a dose or taking ("stop taking", "your dose", "lisinopril",
 * "10 mg"); "if new problems start" is no advice. A negation just before it turns it around ("do not
 * stop" = continue), and the usual caution ("do not stop … without talking to your care team", "ask
 * before you stop") is no advice either.
 */

export interface MedicineAdvice {
  /** What it tells the patient to do, negation applied ("not-start" for "do not start"). */
  meaning: string;
  /** Keys of the medicines it names (nameKey), and EVERY_MEDICINE for "all your medicines". */
  medicines: Set<string>;
}

const NEGATION_REACH = 4;
const EVERY_MEDICINE = '(every medicine)';
const NEUTRAL_REACH = 3;

/**
 * Segment of each token: sentences, split again at "and", "but", "y", "pero"… (-1 for the conjunction
 * itself). The medicine an action is about may sit across a colon or comma ("Lisinopril: stop it").
 */
function segments(tokens: Token[]): number[] {
  let segment = 0;
  return tokens.map((t, i) => {
    if (i > 0 && t.sentence !== tokens[i - 1]!.sentence) segment += 1;
    if (!LEXICON.conjunctions.has(t.text)) return segment;
    segment += 1;
    return -1;
  });
}

const NEGATION_WORDS = new Set(LEXICON.negations.filter((n) => n.length === 1).map((n) => n[0]!));
/** Action phrases by their first word (longest first), so each token is tried against a handful, not all of them. */
const BY_FIRST_WORD = new Map<string, typeof LEXICON.actions>();
const STARRED_FIRST: typeof LEXICON.actions = [];
for (const a of [...LEXICON.actions].sort((x, y) => y.phrase.length - x.phrase.length)) {
  const first = a.phrase[0]!;
  if (first.endsWith('*')) STARRED_FIRST.push(a);
  else BY_FIRST_WORD.set(first, [...(BY_FIRST_WORD.get(first) ?? []), a]);
}

function actionAt(tokens: Token[], seg: number[], i: number) {
  const fits = (a: (typeof LEXICON.actions)[number]) => phraseAt(a.phrase, tokens, i) && a.phrase.every((_, k) => seg[i + k] === seg[i]);
  const exact = BY_FIRST_WORD.get(tokens[i]!.text)?.find(fits);
  const starred = STARRED_FIRST.find(fits);
  return exact && starred ? (exact.phrase.length >= starred.phrase.length ? exact : starred) : (exact ?? starred);
}

/** Whether one of the phrases ends within `reach` tokens before `at`, in its clause, with no conjunction between ("No, stop it" is no negation). */
function endsWithin(phrases: string[][], tokens: Token[], seg: number[], at: number, reach: number): boolean {
  for (let j = Math.max(0, at - reach); j < at; j++) {
    if (tokens[j]!.clause !== tokens[at]!.clause || seg.slice(j, at).some((s) => s !== seg[at])) continue;
    if (phrases.some((p) => j + p.length <= at && phraseAt(p, tokens, j))) return true;
  }
  return false;
}

/**
 * What each segment says of medicines, read once per segment (not once per action word in it, which
 * made a long note of repeated verbs quadratic): medicine words and names by token, whether its
 * numbers hold a dose, and the medicines it names.
 */
interface SegmentReading {
  medicineWordAt: Set<number>;
  nameAt: Set<number>;
  hasDose: boolean;
  medicines: Set<string>;
}

function segmentReader(tokens: Token[], seg: number[], known: ReadonlySet<string>): (i: number) => SegmentReading {
  const read = new Map<number, SegmentReading>();
  return (i) => {
    const known_ = read.get(seg[i]!);
    if (known_) return known_;
    let from = i;
    let to = i;
    while (from > 0 && seg[from - 1] === seg[i]) from -= 1;
    while (to + 1 < tokens.length && seg[to + 1] === seg[i]) to += 1;
    const texts = tokens.slice(from, to + 1).map((t) => t.text);
    const indexes = (keep: (t: string) => boolean) => new Set(texts.flatMap((t, k) => (keep(t) ? [from + k] : [])));
    const reading: SegmentReading = {
      medicineWordAt: indexes((t) => LEXICON.medicineWords.has(t)),
      nameAt: indexes((t) => medicineNamesIn([t], known).size > 0),
      hasDose: quantitiesIn(texts.join(' ')).some((q) => LEXICON.doseUnits.has(q.unit)),
      medicines: medicinesOf(texts, known),
    };
    read.set(seg[i]!, reading);
    return reading;
  };
}

/** A one-word starred action with a pronoun joined to its end ("suspend*" + "suspendalo"). */
function joinedPronoun(phrase: string[], token: string): boolean {
  const stem = phrase.length === 1 && phrase[0]!.endsWith('*') ? phrase[0]!.slice(0, -1) : undefined;
  return stem !== undefined && LEXICON.encliticPronouns.some((p) => token.endsWith(p) && token.length >= stem.length + p.length + 1);
}

/** Whether the segment, its action words [i, end) left out, names a medicine, a dose or taking. */
function namesMedicine(r: SegmentReading, i: number, end: number): boolean {
  const outside = (at: Set<number>) => at.size > Array.from({ length: end - i }, (_, k) => i + k).filter((k) => at.has(k)).length;
  return outside(r.medicineWordAt) || outside(r.nameAt) || r.hasDose;
}

export function medicineAdviceIn(normalized: string, known: ReadonlySet<string>): MedicineAdvice[] {
  const tokens = tokenize(normalized);
  const seg = segments(tokens);
  const segmentAt = segmentReader(tokens, seg, known);
  const sentenceAt = sentenceReader(tokens);
  const found: MedicineAdvice[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (seg[i] === -1) continue;
    const hit = actionAt(tokens, seg, i);
    if (!hit) continue;
    const end = i + hit.phrase.length;
    const segment = segmentAt(i);
    const negated = endsWithin(LEXICON.negations, tokens, seg, i, NEGATION_REACH);
    // "Stop it", "suspéndalo": a pronoun right after the action, or joined to it, stands for a medicine named before it.
    const pronoun = (seg[end] === seg[i] && LEXICON.pronouns.has(tokens[end]?.text ?? '')) || joinedPronoun(hit.phrase, tokens[i]!.text);
    if ((pronoun || namesMedicine(segment, i, end)) && !isCaution(sentenceAt(i), tokens, seg, i, negated || hit.phrase.some((p) => NEGATION_WORDS.has(p)))) {
      found.push({ meaning: meaningOf(hit.action, negated), medicines: segment.medicines });
    }
    i = end - 1;
  }
  return found;
}

/**
 * The usual caution, in a sentence that sends the patient to the care team: "do not stop any
 * medicine without talking to your care team", "ask your doctor before you stop". Without the care
 * team named, "before you double your dose…" or "do not take it unless…" is still advice.
 */
function isCaution(sentence: { careTeam: boolean; neutralWhenNegated: boolean }, tokens: Token[], seg: number[], i: number, saysNot: boolean): boolean {
  if (!sentence.careTeam) return false;
  return (saysNot && sentence.neutralWhenNegated) || endsWithin(LEXICON.neutralAfter, tokens, seg, i, NEUTRAL_REACH);
}

/** Whether each sentence names the care team and holds a neutral word, read once per sentence. */
function sentenceReader(tokens: Token[]): (i: number) => { careTeam: boolean; neutralWhenNegated: boolean } {
  const words = new Map<number, string[]>();
  for (const t of tokens) {
    const list = words.get(t.sentence);
    if (list) list.push(t.text);
    else words.set(t.sentence, [t.text]);
  }
  const read = new Map<number, { careTeam: boolean; neutralWhenNegated: boolean }>();
  return (i) => {
    const n = tokens[i]!.sentence;
    let r = read.get(n);
    if (!r) {
      const sentence = words.get(n)!.join(' ');
      r = { careTeam: LEXICON.careTeam.test(sentence), neutralWhenNegated: LEXICON.neutralWhenNegated.test(sentence) };
      read.set(n, r);
    }
    return r;
  };
}

/** Names of the segment, and EVERY_MEDICINE when it covers them all ("all your medicines"). */
function medicinesOf(texts: string[], known: ReadonlySet<string>): Set<string> {
  const names = medicineNamesIn(texts, known);
  return LEXICON.everyMedicine.test(texts.join(' ')) ? names.add(EVERY_MEDICINE) : names;
}

function meaningOf(action: Action, negated: boolean): string {
  return negated ? (LEXICON.negatedMeaning[action] ?? `not-${action}`) : action;
}

/** The advice the cited record gives: its texts, and its medicine entries' status ("active": continue; "stopped": stop). */
export function recordAdvice(evidence: Evidence, known: ReadonlySet<string>): MedicineAdvice[] {
  const fromStatus = evidence.medicines.flatMap((m) => {
    const meaning = m.status === undefined ? undefined : LEXICON.medicationStatus.get(m.status);
    return meaning
      ? [
          {
            meaning,
            medicines: medicineNamesIn(
              tokenize(m.name).map((t) => t.text),
              known,
            ),
          },
        ]
      : [];
  });
  // One entry per distinct instruction: a long note repeating one instruction is compared once, not once per repeat.
  const distinct = new Map<string, MedicineAdvice>();
  for (const a of [...evidence.lines.flatMap((l) => medicineAdviceIn(l, known)), ...fromStatus]) distinct.set(`${a.meaning}|${[...a.medicines].sort().join('|')}`, a);
  return [...distinct.values()];
}

/**
 * The same instruction: same meaning, and every medicine the statement names is one the record's
 * instruction names. Advice naming no medicine ("stop taking your pills") is the record's only when
 * the record's instruction names none either, or, for keeping on, the cited facts are about one
 * medicine: "stop ibuprofen" does not vouch for "stop taking your pills", which a patient reads as
 * every pill they take.
 */
export function adviceSupported(advice: MedicineAdvice, record: MedicineAdvice[], citedMedicines: number): boolean {
  return record.some(
    (r) =>
      r.meaning === advice.meaning &&
      [...advice.medicines].every((m) => r.medicines.has(m)) &&
      (advice.medicines.size > 0 || r.medicines.size === 0 || (citedMedicines <= 1 && advice.meaning === 'continue')),
  );
}
