/**
 * The one spelling every check compares: Unicode compatibility forms folded (full-width letters,
 * ligatures, "℃"), invisible format characters (zero-width spaces and joiners, soft hyphens, bidi
 * controls) removed, lower case, accents dropped ("súspenda" = "suspenda"), typographic quotes and
 * dashes made plain, vulgar fractions spelled out ("1½" = "1 1/2"). A trick of spelling therefore
 * cannot hide a word from a list.
 */

const VULGAR_FRACTIONS: Record<string, string> = { '½': '1/2', '¼': '1/4', '¾': '3/4', '⅓': '1/3', '⅔': '2/3', '⅛': '1/8' };

export function normalizeText(text: string): string {
  return (
    text
      .replace(/[½¼¾⅓⅔⅛]/g, (c) => ` ${VULGAR_FRACTIONS[c]} `)
      .replace(/º/g, '°')
      .normalize('NFKC')
      .replace(/\p{Cf}/gu, '')
      .replace(/[\u2044\u2215]/g, '/')
      .replace(/[\u2018\u2019\u02bc\u00b4`]/g, "'")
      .replace(/[\u2010-\u2015\u2212]/g, '-')
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .normalize('NFC')
      // UCUM and spaced spellings of one unit ("mm[Hg]", "mm Hg") are one word to the unit list.
      .replace(/\bmm\s*\[?hg\]?/g, 'mmhg')
      // A multiplier written before its number ("x2", "×2") is the count of times it stands for ("2 x").
      .replace(/(?<![\p{L}\p{N}])[x×] ?(\d+)(?![\p{L}\p{N}])/gu, '$1 x')
      // Latin dosing abbreviations written with dots ("b.i.d.", "q.d.") are the words of the list.
      .replace(/\b([btq])\.\s?i\.\s?d\b\.?|\bq\.\s?d\b\.?/g, (_m, l: string | undefined) => (l ? `${l}id` : 'qd'))
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * Letters that look like Latin ones but are not (Cyrillic "о", Greek "ο"; "μ" of "μg" is a unit sign),
 * digits of other scripts ("٢٠٠"), which the number checks would not read, and bidi controls, which
 * make the patient see the letters in another order than the checks read them ("\u202Espot" shows "tops").
 */
const LOOKALIKE_SCRIPT = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}](?<!μ)|(?![0-9])\p{Nd}|[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** Whether a text meant to be in a Latin-script language carries letters or digits of a look-alike script. */
export function hasLookalikeLetters(text: string): boolean {
  return LOOKALIKE_SCRIPT.test(text.normalize('NFKC'));
}

export interface Token {
  text: string;
  /** Index of the clause (sentence part between commas, colons, semicolons...) the token belongs to. */
  clause: number;
  /** Index of its sentence. */
  sentence: number;
}

const TOKEN = /\d+(?:[.,]\d+)*(?:\/\d+)?|\p{L}+(?:'\p{L}+)*|°[cf]?|%/gu;
/** Sentence ends, colons, semicolons, brackets, commas followed by a space, dashes between spaces. */
const CLAUSE_BREAK = /[.!?;:()[\]{}"]+(?=\s|$)|[!?;()[\]{}"]|,\s| [-–] |\n/;

const SENTENCE_BREAK = /[.!?]+(?=\s|$)|\n/;

/** Tokens of a normalised text, each with its clause and sentence. */
export function tokenize(normalized: string): Token[] {
  let clause = 0;
  return normalized.split(SENTENCE_BREAK).flatMap((text, sentence) =>
    text.split(CLAUSE_BREAK).flatMap((part) => {
      clause += 1;
      return [...part.matchAll(TOKEN)].map((m) => ({ text: m[0], clause, sentence }));
    }),
  );
}

/** Sentences of a normalised text. */
export function sentences(normalized: string): string[] {
  return normalized
    .split(SENTENCE_BREAK)
    .map((s) => s.trim())
    .filter(Boolean);
}
