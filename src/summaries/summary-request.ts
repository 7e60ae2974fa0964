import { z } from 'zod';
import { badRequest } from '../fhir/outcome.js';
import { READING_LEVELS, type ReadingLevel } from './readability.js';

const body = z
  .object({
    language: z.string().max(35).optional(),
    readingLevel: z.enum(READING_LEVELS).optional(),
  })
  .strict();

/** Language subtag, then subtags of 1-8 letters or digits: BCP-47's syntax, before Intl canonicalises it. */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

export interface SummaryOptions {
  /** Canonical BCP-47 tag (`es-MX`), so equal requests share a cache entry. */
  language: string;
  readingLevel: ReadingLevel;
}

/** `{language?, readingLevel?}`; an empty body means English at grade 8. */
export function parseSummaryRequest(raw: unknown): SummaryOptions {
  const parsed = body.safeParse(raw ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw badRequest(
      first?.code === 'unrecognized_keys' ? 'Only language and readingLevel may be sent' : `readingLevel must be one of ${READING_LEVELS.join(', ')}, language a BCP-47 tag`,
      first?.path.length ? [first.path.join('.')] : undefined,
    );
  }
  const tag = parsed.data.language ?? 'en';
  let language: string | undefined;
  try {
    language = LANGUAGE_TAG.test(tag) ? Intl.getCanonicalLocales(tag)[0] : undefined;
  } catch {
    language = undefined;
  }
  if (!language) throw badRequest('language must be a BCP-47 language tag such as en or es-MX', ['language']);
  return { language, readingLevel: parsed.data.readingLevel ?? 'grade8' };
}
