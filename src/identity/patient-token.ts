import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { IdentityProviderConfig } from '../config.js';
import { DomainError } from '../errors.js';
import { assessAssurance, verifiedClaimsOf } from './assurance.js';
import type { AuthenticatorDeps } from './authenticator.js';
import { fetchJson } from '../net/fetch-json.js';
import { JWKS_MAX_AGE_MS, JwksCache } from '../net/jwks-cache.js';
import type { VerifiedIdentity } from './types.js';

/** Asymmetric algorithms only; a key's own `alg` (when its JWK declares one) must also match the header. */
export const PATIENT_TOKEN_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256'];
export const PATIENT_TOKEN_SKEW_SECONDS = 60;

const invalidToken = (message: string) => new DomainError('ERR_IDENTITY_TOKEN', message);

/** Why jose refused a token, in words for the integrator; never the token or its claims. */
function describe(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'The identity token has expired';
  if (e instanceof errors.JOSEAlgNotAllowed) return `The identity token's algorithm is not accepted (use one of ${PATIENT_TOKEN_ALGORITHMS.join(', ')})`;
  if (e instanceof errors.JWKSNoMatchingKey) return 'The identity token is not signed with a key its issuer publishes';
  if (e instanceof errors.JWKSMultipleMatchingKeys) return 'The identity token has no kid and its issuer publishes several keys';
  if (e instanceof errors.JWSSignatureVerificationFailed) return "The identity token's signature is not valid";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return 'The identity token is not addressed to this gateway (aud)';
    if (e.claim === 'nbf') return 'The identity token is not valid yet (nbf)';
    if (e.reason === 'missing') return `The identity token lacks the required "${e.claim}" claim`;
    return `The identity token's "${e.claim}" claim is not acceptable`;
  }
  return 'The identity token is not a valid signed JWT';
}

interface Discovered {
  jwksUri: string;
  fetchedAt: number;
  maxAgeMs: number;
}

function nameOf(c: Record<string, unknown>): VerifiedIdentity['name'] | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const given = [str(c.given_name), str(c.middle_name)].flatMap((g) => (g ? g.split(/\s+/) : []));
  const family = str(c.family_name);
  const text = str(c.name);
  if (!given.length && !family && !text) return undefined;
  return { given, ...(family ? { family } : {}), ...(text ? { text } : {}) };
}

function birthDateOf(c: Record<string, unknown>): string | undefined {
  const b = c.birthdate;
  return typeof b === 'string' && /^\d{4}(-\d{2}-\d{2})?$/.test(b) ? b : undefined;
}

/**
 * Patient identity tokens (OIDC ID tokens or JWT access tokens) from the configured providers:
 * signature against the issuer's JWKS only (jku/x5u/x5c/jwk headers are never used), exact iss,
 * aud, time claims within 60 s, then the issuer's IAL2/AAL2 policy.
 */
export function createPatientVerifier(d: AuthenticatorDeps): { verify(token: string): Promise<VerifiedIdentity> } {
  const providers = new Map(d.config.trust.identityProviders.map((p) => [p.issuer, p]));
  const jwks = new JwksCache(d.fetch, d.clock, "The identity provider's JWKS");
  const discovered = new Map<string, Discovered>();

  async function jwksUriOf(p: IdentityProviderConfig): Promise<string> {
    if (p.jwksUri) return p.jwksUri;
    const known = discovered.get(p.issuer);
    if (known && d.clock.now() - known.fetchedAt < known.maxAgeMs) return known.jwksUri;
    const url = `${p.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const { json, maxAgeMs } = await fetchJson(d.fetch, url, "The identity provider's discovery document");
    const doc = (typeof json === 'object' && json !== null ? json : {}) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== p.issuer) throw new DomainError('ERR_IDP_METADATA', "The identity provider's discovery document names a different issuer");
    if (typeof doc.jwks_uri !== 'string') throw new DomainError('ERR_IDP_METADATA', "The identity provider's discovery document has no jwks_uri");
    discovered.set(p.issuer, { jwksUri: doc.jwks_uri, fetchedAt: d.clock.now(), maxAgeMs: Math.min(maxAgeMs ?? JWKS_MAX_AGE_MS, JWKS_MAX_AGE_MS) });
    return doc.jwks_uri;
  }

  async function verifySignature(token: string, p: IdentityProviderConfig): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, async (header, jws) => jwks.getKey(await jwksUriOf(p), header, jws), {
        issuer: p.issuer,
        audience: p.audience,
        algorithms: PATIENT_TOKEN_ALGORITHMS,
        currentDate: new Date(d.clock.now()),
        clockTolerance: PATIENT_TOKEN_SKEW_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    } catch (e) {
      if (e instanceof DomainError) throw e;
      throw invalidToken(describe(e));
    }
  }

  return {
    async verify(token) {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        throw invalidToken('The identity token is not a JWT');
      }
      const p = typeof unverified.iss === 'string' ? providers.get(unverified.iss) : undefined;
      if (!p) throw invalidToken("The identity token's issuer is not a trusted identity provider");

      const claims = await verifySignature(token, p);
      if (typeof claims.sub !== 'string' || !claims.sub) throw invalidToken('The identity token has no subject (sub)');
      const now = Math.floor(d.clock.now() / 1000);
      if ((claims.iat as number) > now + PATIENT_TOKEN_SKEW_SECONDS) throw invalidToken('The identity token was issued in the future (iat)');
      if (claims.azp !== undefined && claims.azp !== p.audience) throw invalidToken('The identity token was issued to another party (azp)');

      const a = assessAssurance(claims, p.assurance, now);
      const short = [a.ial < 2 ? `IAL2 (it proves IAL${a.ial})` : '', a.aal < 2 ? `AAL2 (it proves AAL${a.aal})` : ''].filter(Boolean);
      if (short.length) throw new DomainError('ERR_IDENTITY_ASSURANCE', `The identity token falls short of ${short.join(' and ')} under the policy for its issuer`);

      const vc = a.proofed ?? verifiedClaimsOf(claims).find((v) => typeof v.claims === 'object' && v.claims !== null);
      const source = (vc?.claims as Record<string, unknown> | undefined) ?? claims;
      const name = nameOf(source);
      const birthDate = birthDateOf(source);
      return {
        issuer: p.issuer,
        subject: claims.sub,
        ial: a.ial,
        aal: a.aal,
        ...(name ? { name } : {}),
        ...(birthDate ? { birthDate } : {}),
        evidence: a.evidence,
      };
    },
  };
}
