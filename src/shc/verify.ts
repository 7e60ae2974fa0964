import { verify as verifySignature } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { ShcIssuerConfig, TrustConfig } from '../config.js';
import { DomainError } from '../errors.js';
import type { GuardedFetch } from '../net/types.js';
import { cardsFromInput, type ShcInput } from './card-input.js';
import { checkCardTimes, parseCardPayload } from './claims.js';
import { parseCompactCard } from './compact-jws.js';
import { DEFAULT_MAX_INFLATED_BYTES, inflateCardPayload } from './deflate.js';
import { issuerVerificationKey, type IssuerJwk } from './issuer-key.js';
import { ShcIssuerKeys } from './issuer-keys.js';
import { RevocationLists } from './revocation.js';
import type { ShcPayload, VerifiedCard } from './types.js';

export interface ShcVerifierOptions {
  trust: Pick<TrustConfig, 'shcIssuers' | 'acceptUnknownShcIssuers'>;
  fetch: GuardedFetch;
  clock: Clock;
  /** Ceiling on an inflated payload (413 past it). */
  maxInflatedBytes?: number;
}

export interface ShcVerifier {
  /** One compact JWS → the verified card, or a DomainError (ERR_SHC_*, or ERR_OUTBOUND_* when the issuer cannot be reached). */
  verify(jws: string): Promise<VerifiedCard>;
  /** Every card of a check-in `shc` payload (QR texts, file object or JWS); all must pass. */
  verifyInput(input: ShcInput): Promise<VerifiedCard[]>;
}

/**
 * Verifies SMART Health Cards (spec §8). Build one per process: it holds the fetched issuer key
 * sets and revocation lists.
 */
export function createShcVerifier(opts: ShcVerifierOptions): ShcVerifier {
  const issuers = new Map<string, ShcIssuerConfig>(opts.trust.shcIssuers.map((i) => [i.iss, i]));
  const keys = new ShcIssuerKeys(opts.fetch, opts.clock);
  const revocation = new RevocationLists(opts.fetch, opts.clock);
  const maxInflatedBytes = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;

  /**
   * The trusted issuer is looked up by the payload's iss and only its keys are tried, so a card
   * that verifies has an iss equal to the issuer whose key verified it. Returns that key.
   */
  async function checkSignature(jws: string, issuer: ShcIssuerConfig, kid: string): Promise<IssuerJwk> {
    const jwk = await keys.find(issuer, kid);
    if (!jwk) throw new DomainError('ERR_SHC_UNKNOWN_KID', 'The SMART Health Card is signed with a key its issuer does not publish (unknown kid)');
    const key = await issuerVerificationKey(jwk);
    // ES256 over the exact ASCII of `header.payload`; JOSE signatures are r||s (IEEE P1363), not DER.
    const dot = jws.lastIndexOf('.');
    const valid = verifySignature('sha256', Buffer.from(jws.slice(0, dot), 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.slice(dot + 1), 'base64url'));
    if (!valid) throw new DomainError('ERR_SHC_SIGNATURE', 'The SMART Health Card signature does not verify');
    return jwk;
  }

  /**
   * Only keys with crlVersion publish a list, and the rid method only concerns cards with a rid.
   * fetchJwks is the operator's consent to reach the issuer's host: an issuer configured with
   * inline keys only is pinned offline, and the gateway makes no request to it, CRL included.
   */
  async function checkRevocation(issuer: ShcIssuerConfig, kid: string, jwk: IssuerJwk, payload: ShcPayload): Promise<void> {
    const rid = payload.vc.rid;
    if (!issuer.fetchJwks || typeof jwk.crlVersion !== 'number' || rid === undefined) return;
    if (await revocation.isRevoked({ iss: issuer.iss, kid, crlVersion: jwk.crlVersion, rid, nbf: payload.nbf })) {
      throw new DomainError('ERR_SHC_REVOKED', 'The SMART Health Card has been revoked by its issuer');
    }
  }

  /** `maxBytes`: what is left of the inflate allowance, which all the cards of one input share. */
  async function verifyWithin(jws: string, maxBytes: number): Promise<{ card: VerifiedCard; inflatedBytes: number }> {
    const card = parseCompactCard(jws);
    const { kid } = card.header;
    // The issuer (and so the key) is only known from inside the payload: inflate, capped, first.
    const inflated = inflateCardPayload(card.payload, maxBytes);
    const payload = parseCardPayload(inflated);
    const issuer = issuers.get(payload.iss);
    if (!issuer && !opts.trust.acceptUnknownShcIssuers)
      throw new DomainError('ERR_SHC_ISSUER_UNTRUSTED', 'The SMART Health Card issuer is not trusted', { expression: ['iss'], detail: `iss ${payload.iss}` });
    const jwk = issuer ? await checkSignature(jws, issuer, kid) : undefined;
    checkCardTimes(payload, opts.clock.now());
    if (issuer && jwk) await checkRevocation(issuer, kid, jwk, payload);
    const verified: VerifiedCard = {
      jws,
      issuer: payload.iss,
      ...(issuer?.name ? { issuerName: issuer.name } : {}),
      kid,
      verified: issuer !== undefined,
      nbf: payload.nbf,
      bundle: payload.vc.credentialSubject.fhirBundle,
      payload,
    };
    return { card: verified, inflatedBytes: inflated.length };
  }

  return {
    verify: async (jws) => (await verifyWithin(jws, maxInflatedBytes)).card,
    async verifyInput(input) {
      // Forty cards each just under the cap would be forty times the FHIR to parse and validate.
      let remaining = maxInflatedBytes;
      const cards: VerifiedCard[] = [];
      for (const jws of cardsFromInput(input)) {
        if (remaining <= 0) throw new DomainError('ERR_SHC_INFLATE_LIMIT', `The SMART Health Cards inflate to more than ${maxInflatedBytes} bytes together`);
        const { card, inflatedBytes } = await verifyWithin(jws, remaining);
        remaining -= inflatedBytes;
        cards.push(card);
      }
      return cards;
    },
  };
}
