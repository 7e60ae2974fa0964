import type { HumanName, Patient } from '@medplum/fhirtypes';
import type { VerifiedIdentity } from './types.js';

export type MatchResult = { ok: true } | { ok: false; reason: string };

/** A name as comparable tokens: lower case, accents and punctuation dropped ("B." → "b", "O'Brien" → "obrien"). */
interface Tokens {
  given: string[];
  family: string[];
  /** Set when only free text is known, so given and family cannot be told apart. */
  text?: string[];
}

function tokens(s: string | undefined): string[] {
  if (!s) return [];
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[-‐‑–—_/]/g, ' ')
    .replace(/[^\p{L}\p{N}\s]/gu, '')
    .split(/\s+/)
    .filter(Boolean);
}

function fromHumanName(n: HumanName): Tokens {
  const given = (n.given ?? []).flatMap(tokens);
  const family = tokens(n.family);
  return given.length || family.length ? { given, family } : { given: [], family: [], text: tokens(n.text) };
}

function fromIdentity(n: NonNullable<VerifiedIdentity['name']>): Tokens {
  const given = n.given.flatMap(tokens);
  const family = tokens(n.family);
  return family.length ? { given, family } : { given: [], family: [], text: tokens(n.text ?? n.given.join(' ')) };
}

/** Equal, or one is an initial of the other ("b" and "bob"). */
function tokenMatches(a: string, b: string): boolean {
  return a === b || (a.length === 1 && b.startsWith(a)) || (b.length === 1 && a.startsWith(b));
}

/**
 * Every token of the shorter list pairs with a distinct token of the longer one, in any order, and
 * at least one pair is a full (non-initial) equal word: tolerates reordered or missing middle names.
 */
function wordsMatch(a: string[], b: string[]): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (!short.length) return false;
  const free = [...long];
  let fullWord = false;
  // Exact words claim their partners first so an initial cannot take a word that matches exactly.
  const ordered = [...short].sort((x, y) => y.length - x.length);
  for (const t of ordered) {
    const exact = free.indexOf(t);
    const i = exact >= 0 ? exact : free.findIndex((f) => tokenMatches(t, f));
    if (i < 0) return false;
    if (exact >= 0 && t.length > 1) fullWord = true;
    free.splice(i, 1);
  }
  return fullWord;
}

/** Families compare with spaces and punctuation gone ("Van der Berg" = "VanDerBerg"), or as words for double surnames. */
function familyMatches(a: string[], b: string[]): boolean {
  return (a.length > 0 && a.join('') === b.join('')) || wordsMatch(a, b);
}

function without(from: string[], remove: string[]): string[] | undefined {
  const rest = [...from];
  for (const r of remove) {
    const i = rest.indexOf(r);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return rest;
}

function namesMatch(p: Tokens, id: Tokens): boolean {
  if (p.text && id.text) return wordsMatch(p.text, id.text);
  if (p.text || id.text) {
    const [text, structured] = p.text ? [p.text, id] : [id.text as string[], p];
    const rest = without(text, structured.family);
    return structured.family.length > 0 && rest !== undefined && wordsMatch(structured.given, rest);
  }
  return familyMatches(p.family, id.family) && wordsMatch(p.given, id.given);
}

/**
 * Binds submitted data to the verified identity: one of the Patient's names and its birth date
 * must match the identity's (case, accents, whitespace, punctuation and given-name order ignored).
 * Reasons never contain the compared values.
 */
export function matchPatientToIdentity(patient: Patient, identity: VerifiedIdentity): MatchResult {
  if (!identity.name) return { ok: false, reason: 'The verified identity carries no name to match' };
  if (!identity.birthDate) return { ok: false, reason: 'The verified identity carries no birth date to match' };
  const names = patient.name ?? [];
  if (!names.length) return { ok: false, reason: 'The Patient has no name' };
  if (!patient.birthDate) return { ok: false, reason: 'The Patient has no birth date' };
  const idName = fromIdentity(identity.name);
  if (!names.some((n) => namesMatch(fromHumanName(n), idName))) {
    return { ok: false, reason: "No name of the Patient matches the verified identity's name" };
  }
  if (patient.birthDate.trim() !== identity.birthDate) {
    return { ok: false, reason: "The Patient's birth date does not match the verified identity's" };
  }
  return { ok: true };
}
