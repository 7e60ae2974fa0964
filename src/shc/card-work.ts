import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DomainError } from '../errors.js';
import { parseCardPayload } from './claims.js';
import { parseCompactCard } from './compact-jws.js';
import { inflateCardPayload } from './deflate.js';
import type { ShcPayload } from './types.js';

/**
 * The CPU part of verifying SMART Health Cards, as plain data in and out so it can run on a worker
 * thread (src/cpu/tasks.ts): opening cards (header, capped inflate, payload) and checking ES256
 * signatures. Which issuer and key to trust stays with the verifier (src/shc/verify.ts).
 */
export interface OpenedCard {
  jws: string;
  kid: string;
  payload: ShcPayload;
}

/** An ES256 check of one card against the public point of the key its issuer publishes. */
export interface SignatureCheck {
  jws: string;
  key: { x: string; y: string };
}

/** Opens every card of one input; the inflate allowance is shared, so many cards cost no more than one big one. */
export function openCards(jwsList: readonly string[], maxInflatedBytes: number): OpenedCard[] {
  let remaining = maxInflatedBytes;
  return jwsList.map((jws) => {
    if (remaining <= 0) throw new DomainError('ERR_SHC_INFLATE_LIMIT', `The SMART Health Cards inflate to more than ${maxInflatedBytes} bytes together`);
    const card = parseCompactCard(jws);
    const inflated = inflateCardPayload(card.payload, remaining);
    remaining -= inflated.length;
    return { jws, kid: card.header.kid, payload: parseCardPayload(inflated) };
  });
}

// Issuers publish a handful of keys; a thread keeps the imported ones (bounded: a key set may be refetched with new keys).
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 256;

function keyObject({ x, y }: SignatureCheck['key']): KeyObject {
  const id = `${x}.${y}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    // A node KeyObject, not a WebCrypto key: synchronous verification is several times faster per card.
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
    keys.set(id, key);
  }
  return key;
}

/**
 * Refuses the input when any card's signature does not verify (the rest are not checked: one
 * forgery refuses the input). ES256 over the exact ASCII of `header.payload`, r||s (IEEE P1363) not DER.
 */
export function checkSignatures(checks: readonly SignatureCheck[]): void {
  const forged = checks.some(({ jws, key }) => {
    const dot = jws.lastIndexOf('.');
    return !verify('sha256', Buffer.from(jws.slice(0, dot), 'ascii'), { key: keyObject(key), dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.slice(dot + 1), 'base64url'));
  });
  if (forged) throw new DomainError('ERR_SHC_SIGNATURE', 'The SMART Health Card signature does not verify');
}
