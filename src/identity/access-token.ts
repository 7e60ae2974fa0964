import { SignJWT, decodeJwt, jwtVerify, errors as joseErrors } from 'jose';
import type { Clock } from '../clock.js';
import { DomainError } from '../errors.js';
import type { KeyStore } from '../keys/keystore.js';
import { isPurposeOfUse } from './purpose-of-use.js';
import type { ClientPrincipal } from './types.js';

/** Gateway access tokens live 5 minutes, the SMART Backend Services recommendation. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
const TOKEN_TYP = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 5;
/** Tokens kept verified at once (a clinic's kiosks and EHRs hold a few each); the oldest go first. */
export const MAX_VERIFIED_TOKENS = 4096;

export interface AccessTokenIssuer {
  issue(client: ClientPrincipal): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<ClientPrincipal>;
  /** Cheap check (no signature: `iss` is the gateway) that routes a bearer token to the client or patient verifier. */
  looksLikeOurs(token: string): boolean;
}

/**
 * Access tokens are ES256 JWTs (RFC 9068 `at+jwt`) signed with the gateway key: iss and aud are
 * the gateway's public base URL, sub the client id, plus the organization, granted scopes and the
 * purposes of use granted (`purpose_of_use`, v3-ActReason codes) when the client stated any.
 */
export function accessTokens(keys: KeyStore, issuer: string, clock: Clock): AccessTokenIssuer {
  // A client presents the same token on every request for its five minutes; nothing revokes one
  // sooner, so a token verified once is good until it expires, and its signature (WebCrypto, a trip
  // through libuv's thread pool) need not be checked again on each request.
  const verified = new Map<string, { principal: ClientPrincipal; exp: number }>();
  return {
    async issue(client) {
      const key = keys.signingKey();
      const now = Math.floor(clock.now() / 1000);
      const purposes = client.purposes?.length ? { purpose_of_use: client.purposes } : {};
      const token = await new SignJWT({ scope: client.scopes.join(' '), org: client.organization, client_id: client.clientId, ...purposes })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: TOKEN_TYP })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(client.clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + ACCESS_TOKEN_TTL_SECONDS)
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
      return { token, expiresIn: ACCESS_TOKEN_TTL_SECONDS };
    },
    async verify(token) {
      const known = verified.get(token);
      if (known && known.exp > Math.floor(clock.now() / 1000) - CLOCK_TOLERANCE_SECONDS) return known.principal;
      verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, keys.verificationKeys(), {
          issuer,
          audience: issuer,
          algorithms: ['ES256'],
          typ: TOKEN_TYP,
          currentDate: new Date(clock.now()),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'sub', 'iat'],
        });
        if (typeof payload.org !== 'string' || typeof payload.scope !== 'string' || !payload.sub) throw new Error('claims');
        const purposes = payload.purpose_of_use;
        if (purposes !== undefined && !(Array.isArray(purposes) && purposes.every(isPurposeOfUse))) throw new Error('claims');
        const principal: ClientPrincipal = Object.freeze({
          clientId: payload.sub,
          organization: payload.org,
          scopes: Object.freeze(payload.scope.split(' ').filter(Boolean)),
          ...(purposes?.length ? { purposes: Object.freeze(purposes) } : {}),
        });
        if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value as string);
        verified.set(token, { principal, exp: payload.exp as number });
        return principal;
      } catch (e) {
        const expired = e instanceof joseErrors.JWTExpired;
        throw new DomainError('ERR_ACCESS_TOKEN', expired ? 'The access token has expired; request a new one' : 'The access token is not valid');
      }
    },
    looksLikeOurs(token) {
      try {
        return decodeJwt(token).iss === issuer;
      } catch {
        return false;
      }
    },
  };
}
