import type { Bundle } from '@medplum/fhirtypes';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { ShcIssuerConfig } from '../config.js';
import { issueCard, type IssuedCard } from '../shc/issue.js';

/** A P-256 key as an SHC issuer publishes it (kid = RFC 7638 thumbprint), with its private half for signing cards. */
export interface IssuerKey {
  kid: string;
  publicJwk: JWK & { crlVersion?: number };
  privateKey: CryptoKey;
}

export async function issuerKey(extra: Partial<JWK> & { crlVersion?: number } = {}): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { x, y } = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: x!, y: y! }, 'sha256');
  return { kid, privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, use: 'sig', alg: 'ES256', ...extra } };
}

/**
 * The demo's SMART Health Card issuer (think: the patient's health system). Cards are signed with
 * the gateway's own issuing code, so they are minified, DEFLATEd and ES256 exactly as its cards are.
 */
export interface DemoShcIssuer {
  iss: string;
  /** The trusted-issuer entry for the gateway, keys inline (pinned: the gateway fetches nothing). */
  trust: ShcIssuerConfig;
  sign(bundle: Bundle): Promise<IssuedCard>;
}

export async function createDemoShcIssuer(iss: string, clock: Clock): Promise<DemoShcIssuer> {
  const key = await issuerKey();
  return {
    iss,
    trust: { iss, name: 'Demo Health System', jwks: { keys: [key.publicJwk as Record<string, unknown>] } },
    sign: (bundle) => issueCard(bundle, { key, publicBaseUrl: iss, clock }),
  };
}
