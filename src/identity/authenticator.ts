import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/db.js';
import type { KeyStore } from '../keys/keystore.js';
import type { Logger } from '../log.js';
import type { GuardedFetch } from '../net/types.js';
import { accessTokens } from './access-token.js';
import { createMdlIdentity } from './mdl/mdl-identity.js';
import { patientAccessTokens } from './mdl/patient-access-token.js';
import { createPatientVerifier } from './patient-token.js';
import type { Authenticator } from './types.js';

export interface AuthenticatorDeps {
  config: Config;
  db: Db;
  keys: KeyStore;
  clock: Clock;
  log: Logger;
  /** The SSRF-guarded fetch every JWKS and discovery request goes through. */
  fetch: GuardedFetch;
}

/**
 * Clients carry gateway-issued access tokens; patients carry identity tokens from trusted
 * providers, or the gateway's own patient token obtained with an mDL, or present the mDL itself.
 */
export function createAuthenticator(d: AuthenticatorDeps): Authenticator {
  const tokens = accessTokens(d.keys, d.config.publicBaseUrl, d.clock);
  const patients = createPatientVerifier(d);
  const mdlPatients = patientAccessTokens(d.keys, d.config.publicBaseUrl, d.clock);
  const mdl = createMdlIdentity(d);
  return {
    client: (token) => tokens.verify(token),
    patient: (token) => (mdlPatients.isOne(token) ? mdlPatients.verify(token) : patients.verify(token)),
    identityToken: (token) => patients.verify(token),
    isClientToken: (token) => tokens.looksLikeOurs(token) && !mdlPatients.isOne(token),
    presentation: (p, owner) => mdl.verify(p, owner),
    identityRequest: (owner) => mdl.newRequest(owner),
    patientAccessToken: (identity) => mdlPatients.issue(identity),
  };
}
