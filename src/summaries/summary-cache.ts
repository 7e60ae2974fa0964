import type { Queryable } from '../db/db.js';
import type { ReadingLevel } from './readability.js';
import type { PlainLanguageSummary } from './schema.js';

export interface CacheKey {
  visitId: string;
  visitVersion: number;
  language: string;
  readingLevel: ReadingLevel;
}

export async function cachedSummary(q: Queryable, k: CacheKey): Promise<PlainLanguageSummary | undefined> {
  const { rows } = await q.query<{ answer: PlainLanguageSummary }>(
    'SELECT answer FROM visit_summary_cache WHERE visit_id = $1 AND visit_version = $2 AND language = $3 AND reading_level = $4',
    [k.visitId, k.visitVersion, k.language, k.readingLevel],
  );
  return rows[0]?.answer;
}

/** Drops the entry: it no longer passes the safety checks, and a new answer must be able to take its place. */
export async function dropSummary(q: Queryable, k: CacheKey): Promise<void> {
  await q.query('DELETE FROM visit_summary_cache WHERE visit_id = $1 AND visit_version = $2 AND language = $3 AND reading_level = $4', [
    k.visitId,
    k.visitVersion,
    k.language,
    k.readingLevel,
  ]);
}

/** Stores the answer and drops those of earlier versions of the visit (they can never be served again). */
export async function storeSummary(q: Queryable, k: CacheKey, answer: PlainLanguageSummary, at: Date): Promise<void> {
  await q.query('DELETE FROM visit_summary_cache WHERE visit_id = $1 AND visit_version < $2', [k.visitId, k.visitVersion]);
  await q.query(
    `INSERT INTO visit_summary_cache (visit_id, visit_version, language, reading_level, answer, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [k.visitId, k.visitVersion, k.language, k.readingLevel, JSON.stringify(answer), at],
  );
}
