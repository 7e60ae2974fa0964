import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { IdentityProviderConfig } from '../config.js';

/**
 * A real OIDC identity provider on 127.0.0.1, for the demo and the tests: discovery document, JWKS,
 * and ID tokens signed with its keys. Tokens default to IAL2 + AAL2 under `providerConfig()`'s
 * policy; the options that forge tokens (alg none, HS256, bad claims) serve the attack tests.
 */

/** Login.gov-style assurance values the default policy accepts or refuses. */
export const IAL1_ACR = 'http://idmanagement.gov/ns/assurance/ial/1';
export const IAL2_ACR = 'http://idmanagement.gov/ns/assurance/ial/2?bio=required';
export const AAL2_ACR = 'http://idmanagement.gov/ns/assurance/aal/2';

export type IdpSigningAlg = 'ES256' | 'ES384' | 'RS256' | 'PS256';
const SIGNING_ALGS: IdpSigningAlg[] = ['ES256', 'ES384', 'RS256', 'PS256'];

export interface IdpTokenOptions {
  /** Default ES256. `none` makes an unsigned token; `HS256` signs with `hmacSecret` (default: the public JWK's JSON, the classic key-confusion attack). */
  alg?: IdpSigningAlg | 'none' | 'HS256';
  /** Overrides the header kid; `null` leaves it out. */
  kid?: string | null;
  /** Extra protected-header parameters (jku, x5u, jwk, crit, typ...). */
  header?: Record<string, unknown>;
  hmacSecret?: Uint8Array;
  /** Default: the IdP's issuer / audience. `null` leaves the claim out. */
  iss?: string | null;
  aud?: string | string[] | null;
  /** Base time in ms (default Date.now()); use the gateway's ManualClock value when it has one. */
  now?: number;
  /** Absolute NumericDates (seconds). Defaults: iat = now, exp = now + expiresIn, no nbf. `null` leaves the claim out. */
  iat?: number | null;
  exp?: number | null;
  nbf?: number;
  /** Seconds; default 300. */
  expiresIn?: number;
}

export interface PatientClaimsInput {
  given?: string;
  family?: string;
  birthDate?: string;
}

export interface Idp {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** The kid of the current key for each algorithm. */
  kid(alg?: IdpSigningAlg): string;
  publicJwk(alg?: IdpSigningAlg): JWK;
  /** An IdentityProviderConfig (IAL2 by acr or NIST verified_claims; AAL2 by acr or amr sets) for `trust.identityProviders`. */
  providerConfig(overrides?: Partial<IdentityProviderConfig>): IdentityProviderConfig;
  /** A signed ID token: `sub`, IAL2 `acr` and AAL2 `amr` (["mfa"]) unless `claims` says otherwise (a claim set to undefined is removed). */
  token(claims?: Record<string, unknown>, options?: IdpTokenOptions): Promise<string>;
  /** New keys (new kids) for every algorithm; old keys stay published unless `retireOld`. Returns the new ES256 kid. */
  rotate(opts?: { retireOld?: boolean }): Promise<string>;
  /** When false, the JWKS and discovery endpoints answer 503. */
  setAvailable(available: boolean): void;
  /** How often each endpoint was fetched. */
  stats: { discovery: number; jwks: number };
  close(): Promise<void>;
}

/** Top-level name/birthdate claims; defaults are the spec example card's patient, John B. Anyperson, born 1951-01-20. */
export function patientClaims(p: PatientClaimsInput = {}): Record<string, string> {
  return { given_name: p.given ?? 'John B.', family_name: p.family ?? 'Anyperson', birthdate: p.birthDate ?? '1951-01-20' };
}

/** The same claims inside OpenID for Identity Assurance `verified_claims` (NIST 800-63A IAL2 unless told otherwise). */
export function verifiedClaims(
  p: PatientClaimsInput = {},
  verification: Record<string, unknown> = { trust_framework: 'nist_800_63A', assurance_level: 'ial2' },
): Record<string, unknown> {
  return { verified_claims: { verification, claims: patientClaims(p) } };
}

interface KeyEntry {
  alg: IdpSigningAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** The IdP's signing keys: the current one per alg, and every key it still publishes (newest first). */
function keyRing() {
  let generation = 0;
  let published: KeyEntry[] = [];
  const current = new Map<IdpSigningAlg, KeyEntry>();
  return {
    entry: (alg: IdpSigningAlg = 'ES256'): KeyEntry => current.get(alg) as KeyEntry,
    published: () => published,
    /** A new key per alg; the keys current until now stay published unless retired. */
    async rotate(retireOld: boolean): Promise<void> {
      const old = new Set(current.values());
      generation += 1;
      const fresh = await Promise.all(
        SIGNING_ALGS.map(async (alg): Promise<KeyEntry> => {
          const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
          const kid = `${alg.toLowerCase()}-${generation}-${base64url.encode(crypto.getRandomValues(new Uint8Array(6)))}`;
          return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
        }),
      );
      for (const k of fresh) current.set(k.alg, k);
      published = [...fresh, ...published];
      if (retireOld) published = published.filter((k) => !old.has(k));
    },
  };
}

/** The OpenID Provider metadata the gateway reads: where the keys are, which algorithms and assurance values. */
function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: SIGNING_ALGS,
    acr_values_supported: [IAL1_ACR, IAL2_ACR, AAL2_ACR],
    verified_claims_supported: true,
    trust_frameworks_supported: ['nist_800_63A'],
  };
}

/** Signs with the current key of the alg asked for; `none` and HS256 (keyed by the public JWK) make the tokens a gateway must refuse. */
async function signIdToken(body: Record<string, unknown>, o: IdpTokenOptions, entry: (alg?: IdpSigningAlg) => KeyEntry): Promise<string> {
  const alg = o.alg ?? 'ES256';
  const signer = alg === 'none' || alg === 'HS256' ? entry('ES256') : entry(alg);
  const header: Record<string, unknown> = { alg, typ: 'JWT', ...(o.kid === null ? {} : { kid: o.kid ?? signer.kid }), ...o.header };
  if (alg === 'none') {
    const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
    return `${enc(header)}.${enc(body)}.`;
  }
  const key = alg === 'HS256' ? (o.hmacSecret ?? new TextEncoder().encode(JSON.stringify(signer.publicJwk))) : signer.privateKey;
  // Lets tests put extensions the gateway must refuse into `crit`.
  const crit = Array.isArray(header.crit) ? Object.fromEntries((header.crit as string[]).map((c) => [c, true])) : undefined;
  return new SignJWT(body).setProtectedHeader(header as { alg: string }).sign(key, crit ? { crit } : undefined);
}

export async function startIdp(opts: { audience?: string } = {}): Promise<Idp> {
  const keys = keyRing();
  let available = true;
  const stats = { discovery: 0, jwks: 0 };
  await keys.rotate(false);

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      stats.discovery += 1;
      if (!available) return send(503, { error: 'unavailable' });
      return send(200, discoveryDocument(issuer));
    }
    if (path === '/jwks') {
      stats.jwks += 1;
      if (!available) return send(503, { error: 'unavailable' });
      return send(200, { keys: keys.published().map((k) => k.publicJwk) });
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${issuer}/jwks`;
  const audience = opts.audience ?? 'ktc-gateway';

  const entry = keys.entry;

  async function token(claims: Record<string, unknown> = {}, o: IdpTokenOptions = {}): Promise<string> {
    const now = Math.floor((o.now ?? Date.now()) / 1000);
    const body: Record<string, unknown> = {
      iss: o.iss === undefined ? issuer : o.iss,
      aud: o.aud === undefined ? audience : o.aud,
      sub: 'idp-user-0001',
      iat: o.iat === undefined ? now : o.iat,
      exp: o.exp === undefined ? now + (o.expiresIn ?? 300) : o.exp,
      ...(o.nbf !== undefined ? { nbf: o.nbf } : {}),
      acr: IAL2_ACR,
      amr: ['mfa'],
      ...claims,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined || v === null) delete body[k];
    return signIdToken(body, o, entry);
  }

  return {
    issuer,
    audience,
    jwksUri,
    kid: (alg) => entry(alg).kid,
    publicJwk: (alg) => entry(alg).publicJwk,
    providerConfig: (overrides = {}) => ({
      issuer,
      audience,
      assurance: {
        ial2: { acr: [IAL2_ACR], verifiedClaims: [{ trustFramework: 'nist_800_63A', assuranceLevel: 'ial2' }] },
        aal2: { acr: [AAL2_ACR], amr: [['mfa'], ['hwk'], ['pwd', 'otp']] },
      },
      ...overrides,
    }),
    token,
    async rotate(ro = {}) {
      await keys.rotate(Boolean(ro.retireOld));
      return entry('ES256').kid;
    },
    setAvailable(v) {
      available = v;
    },
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
