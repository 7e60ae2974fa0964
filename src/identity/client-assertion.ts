import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import type { Clock } from '../clock.js';
import type { ClientConfig, Config } from '../config.js';
import type { Db } from '../db/db.js';
import type { JwksCache } from '../net/jwks-cache.js';
import { B2bExtensionError, readB2bExtension, type B2bAuthorization } from './purpose-of-use.js';

/** SMART asks servers to verify RS384 or ES384; ES256/RS256 are common enough to accept too. */
export const CLIENT_ASSERTION_ALGORITHMS = ['ES384', 'RS384', 'ES256', 'RS256'];
/** SMART Backend Services: an assertion's exp is at most 5 minutes ahead. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
export const ASSERTION_SKEW_SECONDS = 60;

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';

/** An RFC 6749 §5.2 error; the token endpoint renders it as `{error, error_description}`. */
export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** The client the assertion named, when it is a registered one (for the audit trail). */
    readonly clientId?: string,
  ) {
    super(description);
    this.status = error === 'invalid_client' ? 401 : 400;
  }
}

const KTY_FOR_ALG: Record<string, string> = { ES256: 'EC', ES384: 'EC', RS256: 'RSA', RS384: 'RSA' };

interface RegisteredClient {
  config: ClientConfig;
  /** Inline keys, resolved once; clients with a jwks_uri go through the cache instead. */
  inline?: { set: { keys: JWK[] }; getKey: JWTVerifyGetKey };
}

export interface ClientAssertionDeps {
  config: Config;
  db: Db;
  clock: Clock;
  jwks: JwksCache;
}

/** A verified client, and the UDAP B2B authorization its assertion carried, if any. */
export interface AuthenticatedClient {
  config: ClientConfig;
  b2b: B2bAuthorization | undefined;
}

/**
 * Authenticates a SMART Backend Services client by its private_key_jwt assertion (RFC 7523 §3,
 * SMART App Launch v2 client-confidential-asymmetric). Every failure is `invalid_client`.
 */
export function createClientAssertionVerifier(d: ClientAssertionDeps): { authenticate(assertion: string): Promise<AuthenticatedClient> } {
  const tokenUrl = `${d.config.publicBaseUrl}/auth/token`;
  const clients = new Map<string, RegisteredClient>(
    d.config.trust.clients.map((c) => [
      c.clientId,
      c.jwks ? { config: c, inline: { set: c.jwks as { keys: JWK[] }, getKey: createLocalJWKSet(c.jwks as { keys: JWK[] }) } } : { config: c },
    ]),
  );

  /** The one key with the header's kid and a kty fitting its alg (SMART: exactly one must match). */
  async function keyFor(c: RegisteredClient, alg: string, kid: string): Promise<JWTVerifyGetKey> {
    const fits = (set: { keys: JWK[] }) => set.keys.filter((k) => k.kid === kid && k.kty === KTY_FOR_ALG[alg]);
    const fail = () => new OAuthError('invalid_client', `No single registered key has the assertion's kid and a key type for ${alg}`, c.config.clientId);
    if (c.inline) {
      if (fits(c.inline.set).length !== 1) throw fail();
      return c.inline.getKey;
    }
    const url = c.config.jwksUri as string;
    let cached = await d.jwks.current(url);
    if (fits(cached.set as { keys: JWK[] }).length === 0) cached = (await d.jwks.refreshed(url)) ?? cached;
    if (fits(cached.set as { keys: JWK[] }).length !== 1) throw fail();
    return cached.getKey;
  }

  async function rememberJti(clientId: string, jti: string, exp: number): Promise<boolean> {
    const now = new Date(d.clock.now()).toISOString();
    await d.db.query('DELETE FROM client_assertion_jti WHERE expires_at < $1', [now]);
    // Kept until the assertion could no longer pass the exp check, skew included.
    const until = new Date((exp + ASSERTION_SKEW_SECONDS) * 1000).toISOString();
    const { rows } = await d.db.query('INSERT INTO client_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING jti', [
      clientId,
      jti,
      until,
    ]);
    return rows.length === 1;
  }

  return {
    async authenticate(assertion) {
      let header: ProtectedHeaderParameters;
      let unverified: JWTPayload;
      try {
        header = decodeProtectedHeader(assertion);
        unverified = decodeJwt(assertion);
      } catch {
        throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
      }
      const c = typeof unverified.iss === 'string' ? clients.get(unverified.iss) : undefined;
      if (!c) throw new OAuthError('invalid_client', 'The assertion does not name a registered client (iss)');
      const clientId = c.config.clientId;
      const refuse = (description: string) => new OAuthError('invalid_client', description, clientId);

      const { alg, kid } = checkHeader(header, c.config.jwksUri, refuse);
      const getKey = await keyFor(c, alg, kid);
      const claims = await verifiedClaims(assertion, getKey, { alg, clientId, tokenUrl, now: d.clock.now() }, refuse);
      const now = Math.floor(d.clock.now() / 1000);
      const exp = claims.exp as number;
      if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_SKEW_SECONDS) throw refuse('The assertion expires more than 5 minutes ahead');
      if (typeof claims.jti !== 'string' || !claims.jti || claims.jti.length > 255) throw refuse('The assertion needs a jti of 1 to 255 characters');
      const b2b = b2bOf(claims, clientId);
      if (!(await rememberJti(clientId, claims.jti, exp))) throw refuse('The assertion has been used before (jti)');
      return { config: c.config, b2b };
    },
  };
}

type Refuse = (description: string) => OAuthError;

/** The header rules of SMART Backend Services: an accepted alg, typ JWT if any, a kid, and a jku only if it is the registered one. */
function checkHeader(header: ProtectedHeaderParameters, jwksUri: string | undefined, refuse: Refuse): { alg: string; kid: string } {
  const alg = header.alg;
  if (typeof alg !== 'string' || !CLIENT_ASSERTION_ALGORITHMS.includes(alg)) {
    throw refuse(`The assertion's alg must be one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`);
  }
  if (header.typ !== undefined && header.typ.toUpperCase() !== 'JWT') throw refuse('The assertion header typ must be JWT');
  if (typeof header.kid !== 'string' || !header.kid) throw refuse('The assertion header needs a kid');
  if (header.jku !== undefined && header.jku !== jwksUri) throw refuse("The assertion's jku is not the client's registered jwks_uri");
  return { alg, kid: header.kid };
}

/** Signature, iss = sub = the client, aud = the token endpoint, exp and jti present; each failure named for the client. */
async function verifiedClaims(
  assertion: string,
  getKey: JWTVerifyGetKey,
  at: { alg: string; clientId: string; tokenUrl: string; now: number },
  refuse: Refuse,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(assertion, getKey, {
      algorithms: [at.alg],
      issuer: at.clientId,
      subject: at.clientId,
      audience: at.tokenUrl,
      currentDate: new Date(at.now),
      clockTolerance: ASSERTION_SKEW_SECONDS,
      requiredClaims: ['exp', 'jti'],
    });
    return payload;
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw refuse('The assertion has expired');
    if (e instanceof errors.JWTClaimValidationFailed) {
      throw refuse(e.claim === 'aud' ? `The assertion's aud must be exactly ${at.tokenUrl}` : `The assertion's "${e.claim}" claim is not acceptable`);
    }
    throw refuse("The assertion's signature does not verify with the client's registered key");
  }
}

/** A malformed UDAP B2B extension is the request's fault (invalid_request), not the client's credentials'. */
function b2bOf(claims: JWTPayload, clientId: string): B2bAuthorization | undefined {
  try {
    return readB2bExtension(claims);
  } catch (e) {
    if (!(e instanceof B2bExtensionError)) throw e;
    throw new OAuthError('invalid_request', e.message, clientId);
  }
}
