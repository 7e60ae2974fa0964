import { X509Certificate, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { DomainError } from '../errors.js';

/** A JWK as published in an issuer's key set (crlVersion is SHC's addition). */
export type IssuerJwk = JWK & { crlVersion?: unknown };

const checked = new WeakMap<object, Promise<void>>();

function refuse(kid: string, why: string): never {
  throw new DomainError('ERR_SHC_ISSUER_KEY', `The issuer key ${kid} breaks the SMART Health Card key rules: ${why}`);
}

/** The first certificate of x5c must carry this very key. */
function certificateMatches(jwk: IssuerJwk): boolean {
  const first = jwk.x5c?.[0];
  if (typeof first !== 'string') return false;
  try {
    const key = new X509Certificate(Buffer.from(first, 'base64')).publicKey.export({ format: 'jwk' });
    return key.crv === 'P-256' && key.x === jwk.x && key.y === jwk.y;
  } catch {
    return false;
  }
}

async function check(jwk: IssuerJwk): Promise<void> {
  const kid = String(jwk.kid);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') refuse(kid, 'not an EC P-256 key');
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') refuse(kid, 'x or y is missing');
  if ('d' in jwk) refuse(kid, 'it publishes its private part (d)');
  if (jwk.use !== undefined && jwk.use !== 'sig') refuse(kid, 'use is not "sig"');
  if (jwk.alg !== undefined && jwk.alg !== 'ES256') refuse(kid, 'alg is not ES256');
  const thumbprint = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'sha256');
  if (jwk.kid !== thumbprint) refuse(kid, 'kid is not its RFC 7638 thumbprint');
  if (jwk.x5c !== undefined && !certificateMatches(jwk)) refuse(kid, 'the first x5c certificate holds another key');
  try {
    // Importing is the check that x/y is a point on P-256; the signatures are checked on the worker threads (card-work.ts).
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  } catch {
    refuse(kid, 'x/y is not a point on P-256');
  }
}

/**
 * Checks an issuer key against spec §4 (EC P-256, no d, kid = thumbprint, x5c matching, a point on
 * the curve) before any card signed with it is believed. Each JWK object is checked once; a
 * refetched key set brings new objects.
 */
export function checkIssuerKey(jwk: IssuerJwk): Promise<void> {
  let result = checked.get(jwk);
  if (!result) {
    result = check(jwk);
    checked.set(jwk, result);
  }
  return result;
}
