import { z } from 'zod';
import data from './red-flags.json' with { type: 'json' };
import type { Fact } from './facts.js';

const redFlagFile = z.object({
  emergencyNumber: z.string().min(1),
  flags: z.array(z.object({ id: z.string().min(1), sign: z.string().min(1), also: z.string().min(1).optional(), terms: z.array(z.string().min(2)).min(1) }).strict()).min(1),
});

/** The list lives in red-flags.json so clinicians can review and extend it without touching code. */
export const RED_FLAGS = redFlagFile.parse(data);

export interface RedFlagHit {
  id: string;
  sign: string;
  also?: string;
  /** Aliases of the facts the sign was found in. */
  refs: string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const MATCHERS = RED_FLAGS.flags.map((f) => ({
  flag: f,
  re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${f.terms.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'iu'),
}));

/**
 * The red-flag signs mentioned anywhere in the facts, in the file's order. A negated mention
 * ("denies chest pain") counts too: telling someone when to call 911 costs nothing when it is not needed.
 */
export function findRedFlags(facts: Fact[]): RedFlagHit[] {
  const hits: RedFlagHit[] = [];
  for (const { flag, re } of MATCHERS) {
    const refs = facts.filter((f) => [f.title ?? '', f.text, ...(f.instructions ?? []), ...(f.details ?? [])].some((t) => re.test(t))).map((f) => f.ref);
    if (refs.length) hits.push({ id: flag.id, sign: flag.sign, ...(flag.also ? { also: flag.also } : {}), refs: [...new Set(refs)] });
  }
  return hits;
}
