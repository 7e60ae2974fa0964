import { failWith } from '../errors.js';

const malformed = failWith('ERR_SHC_JWS_MALFORMED');
const badHeader = failWith('ERR_SHC_JWS_HEADER');

export interface CardHeader {
  alg: 'ES256';
  zip: 'DEF';
  kid: string;
}

export interface CompactCard {
  jws: string;
  header: CardHeader;
  /** The DEFLATEd payload bytes, as signed. */
  payload: Buffer;
}

const COMPACT = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
// ES256 in JOSE is the 64-byte r||s form; a DER signature (70-72 bytes) is a known issuer mistake.
const SIGNATURE_BYTES = 64;

/** Splits a card's compact JWS and checks its header (alg ES256, zip DEF, kid); the signature is checked later. */
export function parseCompactCard(jws: string): CompactCard {
  const m = COMPACT.exec(jws);
  if (!m) throw malformed('A SMART Health Card is a compact JWS: three base64url segments joined by dots');
  const [, h, p, s] = m as unknown as [string, string, string, string];
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    throw malformed('The SMART Health Card JWS header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('The SMART Health Card JWS header is not a JSON object');
  const { alg, zip, kid } = header as Record<string, unknown>;
  if (alg !== 'ES256') throw badHeader('A SMART Health Card is signed with ES256 (header alg)');
  if (zip !== 'DEF') throw badHeader('A SMART Health Card payload is DEFLATEd (header zip "DEF")');
  if (typeof kid !== 'string' || kid.length === 0) throw badHeader('The SMART Health Card JWS header has no kid');
  if (Buffer.from(s, 'base64url').length !== SIGNATURE_BYTES) throw badHeader('The SMART Health Card signature is not a 64-byte ES256 (r||s) signature');
  return { jws, header: { alg, zip, kid }, payload: Buffer.from(p, 'base64url') };
}
