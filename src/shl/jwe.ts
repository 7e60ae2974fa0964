import { CompactEncrypt, compactDecrypt, errors } from 'jose';
import { DomainError } from '../errors.js';

/**
 * SHL file encryption: compact JWE, `alg` "dir", `enc` "A256GCM", the link's key for every file.
 * jose draws a fresh 96-bit IV for every encryption, which the shared key makes mandatory.
 */

/** Inflated plaintext above this is refused (ERR_SHL_FILE_LIMIT): a visit summary or health history is far smaller. */
export const DEFAULT_MAX_PLAINTEXT_BYTES = 5 * 1024 * 1024;

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

/**
 * Decrypts (and inflates, for `zip` "DEF", within `maxBytes`) one file. Anything that is not a
 * well-formed dir/A256GCM JWE under this key is ERR_SHL_FILE; an inflated size over the cap ERR_SHL_FILE_LIMIT.
 */
export async function decryptFile(jwe: string, key: Uint8Array, maxBytes = DEFAULT_MAX_PLAINTEXT_BYTES): Promise<DecryptedFile> {
  let result: Awaited<ReturnType<typeof compactDecrypt>>;
  try {
    result = await compactDecrypt(jwe.trim(), key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      maxDecompressedLength: maxBytes,
    });
  } catch (e) {
    // jose reports the inflate cap only through this message; test/shl/jwe.test.ts pins it.
    if (e instanceof errors.JWEInvalid && /Decompressed plaintext exceeded/.test(e.message)) {
      throw new DomainError('ERR_SHL_FILE_LIMIT', `An SHL file inflates to more than ${maxBytes} bytes`);
    }
    if (e instanceof errors.JOSEError) throw new DomainError('ERR_SHL_FILE', `An SHL file could not be decrypted with the link's key (${e.code})`);
    throw e;
  }
  if (result.plaintext.length > maxBytes) throw new DomainError('ERR_SHL_FILE_LIMIT', `An SHL file is larger than ${maxBytes} bytes`);
  let content: string;
  try {
    content = utf8.decode(result.plaintext);
  } catch {
    throw new DomainError('ERR_SHL_FILE', 'An SHL file is not UTF-8 text');
  }
  const cty = result.protectedHeader.cty;
  return { contentType: typeof cty === 'string' ? cty : undefined, content };
}
