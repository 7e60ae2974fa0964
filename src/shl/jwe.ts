import { createDecipheriv } from 'node:crypto';
import { base64url, CompactEncrypt, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { DomainError } from '../errors.js';
import { inflateRawWithin } from '../inflate.js';

/**
 * SHL file encryption: compact JWE, `alg` "dir", `enc` "A256GCM", the link's key for every file.
 * jose draws a fresh 96-bit IV for every encryption, which the shared key makes mandatory. Files
 * are opened here rather than by jose, which inflates `zip` "DEF" itself and tells a plaintext
 * over the cap from a broken file only in the words of its error message.
 */

/** Inflated plaintext above this is refused (ERR_SHL_FILE_LIMIT): a visit summary or health history is far smaller. */
export const DEFAULT_MAX_PLAINTEXT_BYTES = 5 * 1024 * 1024;

/** A256GCM's sizes (RFC 7518 §5.3): a 256-bit key, a 96-bit IV, a 128-bit tag. */
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function keyBytes(key: string): Uint8Array {
  return Buffer.from(key, 'base64url');
}

export async function encryptFile(content: string, key: Uint8Array, contentType: string, opts: { zip?: boolean } = {}): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(content))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: contentType, ...(opts.zip ? { zip: 'DEF' } : {}) })
    .encrypt(key);
}

export interface DecryptedFile {
  /** The header's `cty`; absent in the older `kid`-only form, which is still accepted. */
  contentType: string | undefined;
  content: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const unreadable = (why: string) => new DomainError('ERR_SHL_FILE', `An SHL file could not be decrypted with the link's key (${why})`);

function decoded(segment: string, name: string): Uint8Array {
  try {
    return base64url.decode(segment);
  } catch {
    throw unreadable(`its ${name} is not base64url`);
  }
}

function protectedHeader(jwe: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(jwe);
  } catch {
    throw unreadable('its header is not a JSON object');
  }
}

/** The header and the plaintext (deflated, for `zip` "DEF") of a compact dir/A256GCM JWE. */
function open(jwe: string, key: Uint8Array): { header: ProtectedHeaderParameters; plaintext: Buffer } {
  const segments = jwe.split('.');
  const [encodedHeader = '', encryptedKey, iv = '', ciphertext = '', tag = ''] = segments;
  if (segments.length !== 5 || encryptedKey !== '') throw unreadable('not a compact JWE with a direct key');
  const header = protectedHeader(jwe);
  // No extension is understood here, so none may be critical (RFC 7516 §4.1.13).
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || header.crit !== undefined || (header.zip !== undefined && header.zip !== 'DEF')) {
    throw unreadable('it is not dir/A256GCM, with zip DEF or none and nothing critical');
  }
  const ivBytes = decoded(iv, 'IV');
  const tagBytes = decoded(tag, 'tag');
  const ciphertextBytes = decoded(ciphertext, 'ciphertext');
  if (key.length !== KEY_BYTES || ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw unreadable('wrong key, IV or tag size');
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(encodedHeader, 'ascii'));
  decipher.setAuthTag(tagBytes);
  try {
    return { header, plaintext: Buffer.concat([decipher.update(ciphertextBytes), decipher.final()]) };
  } catch {
    throw unreadable('it does not authenticate');
  }
}

/**
 * Decrypts (and inflates, for `zip` "DEF", within `maxBytes`) one file. Anything that is not a
 * well-formed dir/A256GCM JWE under this key is ERR_SHL_FILE; a plaintext over the cap ERR_SHL_FILE_LIMIT.
 */
export async function decryptFile(jwe: string, key: Uint8Array, maxBytes = DEFAULT_MAX_PLAINTEXT_BYTES): Promise<DecryptedFile> {
  const { header, plaintext } = open(jwe.trim(), key);
  const bytes =
    header.zip === 'DEF'
      ? inflateRawWithin(plaintext, maxBytes, {
          tooLarge: () => new DomainError('ERR_SHL_FILE_LIMIT', `An SHL file inflates to more than ${maxBytes} bytes`),
          notDeflate: () => unreadable('its plaintext is not raw DEFLATE data'),
        })
      : plaintext;
  if (bytes.length > maxBytes) throw new DomainError('ERR_SHL_FILE_LIMIT', `An SHL file is larger than ${maxBytes} bytes`);
  let content: string;
  try {
    content = utf8.decode(bytes);
  } catch {
    throw new DomainError('ERR_SHL_FILE', 'An SHL file is not UTF-8 text');
  }
  return { contentType: typeof header.cty === 'string' ? header.cty : undefined, content };
}
