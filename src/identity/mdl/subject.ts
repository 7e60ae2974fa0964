import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { open, seal } from '../../keys/envelope.js';

const SALT_NAME = 'mdl-subject-salt';

/**
 * The key of the document-number hash: the configured `mdl.subjectSalt`, or one generated on first
 * use and kept in the database (sealed with KEY_ENCRYPTION_KEY when set) so every replica and every
 * restart derives the same subject. Changing it changes every mDL patient's subject.
 */
export async function subjectSalt(db: Db, configured: string | undefined, encryptionKey: string | undefined): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64url');
  const fresh = randomBytes(32).toString('base64url');
  await db.query('INSERT INTO gateway_secret (name, value, encrypted) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
    SALT_NAME,
    encryptionKey ? seal(fresh, encryptionKey) : fresh,
    Boolean(encryptionKey),
  ]);
  const { rows } = await db.query<{ value: string; encrypted: boolean }>('SELECT value, encrypted FROM gateway_secret WHERE name = $1', [SALT_NAME]);
  const row = rows[0];
  if (!row) throw new Error('the mDL subject salt was not stored');
  if (row.encrypted && !encryptionKey) throw new Error('the mDL subject salt is encrypted at rest; set KEY_ENCRYPTION_KEY');
  return Buffer.from(row.encrypted ? open(row.value, encryptionKey as string) : row.value, 'base64url');
}

/**
 * A pseudonymous, stable subject for one licence: HMAC-SHA-256 over issuer and document number.
 * The number itself is never stored; without the salt the subject cannot be tested against guesses.
 */
export function mdlSubject(salt: Buffer, issuer: string, documentNumber: string): string {
  return createHmac('sha256', salt).update(`${issuer}\n${documentNumber}`).digest('base64url');
}
