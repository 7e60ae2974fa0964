import type { Clock } from '../clock.js';
import type { ShcIssuerConfig, TrustConfig } from '../config.js';
import { DomainError } from '../errors.js';
import type { GuardedFetch } from '../net/types.js';
import { cardsFromInput, type ShcInput } from './card-input.js';
import { type OpenedCard, openCards, type SignatureCheck, checkSignatures } from './card-work.js';
import { checkCardTimes } from './claims.js';
import { DEFAULT_MAX_INFLATED_BYTES } from './deflate.js';
import { checkIssuerKey, type IssuerJwk } from './issuer-key.js';
import { ShcIssuerKeys } from './issuer-keys.js';
import { RevocationLists } from './revocation.js';
import type { ShcPayload, VerifiedCard } from './types.js';

/** Where cards are opened: inline by default, on the worker threads when the gateway passes its pool. */
export interface ShcWork {
  open(jwsList: string[], maxInflatedBytes: number): Promise<OpenedCard[]>;
}

const INLINE: ShcWork = { open: async (jwsList, maxInflatedBytes) => openCards(jwsList, maxInflatedBytes) };

/** Cards checked in every way but their signatures, and the signature checks still owed. */
export interface OpenedInput {
  cards: VerifiedCard[];
  /** One per card from a trusted issuer; until `checkSignatures` passes them, none of `cards` is verified. */
  signatures: SignatureCheck[];
}

export interface ShcVerifierOptions {
  trust: Pick<TrustConfig, 'shcIssuers' | 'acceptUnknownShcIssuers'>;
  fetch: GuardedFetch;
  clock: Clock;
  /** Ceiling on the inflated payloads of one input, together (413 past it). */
  maxInflatedBytes?: number;
  work?: ShcWork;
}

export interface ShcVerifier {
  /**
   * Every card of a check-in `shc` payload (QR texts, file object or JWS), checked in every way
   * but the ES256 signatures, which the caller owes: a check-in checks them on a worker thread
   * with the validation of the cards' content, after binding the Patient to the identity.
   */
  openInput(input: ShcInput): Promise<OpenedInput>;
  /** The same, signatures included: the verified cards, or a DomainError (ERR_SHC_*, or ERR_OUTBOUND_* when the issuer cannot be reached). */
  verifyInput(input: ShcInput): Promise<VerifiedCard[]>;
  /** One compact JWS, verified. */
  verify(jws: string): Promise<VerifiedCard>;
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
  const work = opts.work ?? INLINE;

  /**
   * The trusted issuer is looked up by the payload's iss and only its keys are tried, so a card
   * that verifies has an iss equal to the issuer whose key verified it. The key is checked
   * against the spec's key rules before any signature is.
   */
  async function issuerKey(card: OpenedCard, issuer: ShcIssuerConfig): Promise<IssuerJwk> {
    const jwk = await keys.find(issuer, card.kid);
    if (!jwk) throw new DomainError('ERR_SHC_UNKNOWN_KID', 'The SMART Health Card is signed with a key its issuer does not publish (unknown kid)');
    await checkIssuerKey(jwk);
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

  /** Open (inflate first: the issuer, so the key, is only known from inside the payload) → trust → key → times → revocation. */
  async function openAll(jwsList: string[]): Promise<OpenedInput> {
    const opened = await work.open(jwsList, maxInflatedBytes);
    const trusted: { card: OpenedCard; issuer: ShcIssuerConfig | undefined; jwk: IssuerJwk | undefined }[] = [];
    for (const card of opened) {
      const issuer = issuers.get(card.payload.iss);
      if (!issuer && !opts.trust.acceptUnknownShcIssuers)
        throw new DomainError('ERR_SHC_ISSUER_UNTRUSTED', 'The SMART Health Card issuer is not trusted', { expression: ['iss'], detail: `iss ${card.payload.iss}` });
      trusted.push({ card, issuer, jwk: issuer ? await issuerKey(card, issuer) : undefined });
    }
    const now = opts.clock.now();
    for (const { card, issuer, jwk } of trusted) {
      checkCardTimes(card.payload, now);
      if (issuer && jwk) await checkRevocation(issuer, card.kid, jwk, card.payload);
    }
    const signatures = trusted.flatMap(({ card, jwk }) => (jwk ? [{ jws: card.jws, key: { x: String(jwk.x), y: String(jwk.y) } }] : []));
    const cards = trusted.map(({ card, issuer }) => ({
      jws: card.jws,
      issuer: card.payload.iss,
      ...(issuer?.name ? { issuerName: issuer.name } : {}),
      kid: card.kid,
      verified: issuer !== undefined,
      nbf: card.payload.nbf,
      bundle: card.payload.vc.credentialSubject.fhirBundle,
      payload: card.payload,
    }));
    return { cards, signatures };
  }

  async function verifyAll(jwsList: string[]): Promise<VerifiedCard[]> {
    const { cards, signatures } = await openAll(jwsList);
    checkSignatures(signatures);
    return cards;
  }

  return {
    openInput: async (input) => openAll(cardsFromInput(input)),
    verifyInput: async (input) => verifyAll(cardsFromInput(input)),
    verify: async (jws) => (await verifyAll([jws]))[0]!,
  };
}
