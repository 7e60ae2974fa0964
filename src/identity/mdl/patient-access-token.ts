import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { Clock } from '../../clock.js';
import { DomainError } from '../../errors.js';
import type { KeyStore } from '../../keys/keystore.js';
import type { VerifiedIdentity } from '../types.js';

/** Short: the patient presents the licence again rather than holding a long-lived credential. */
export const PATIENT_ACCESS_TOKEN_TTL_SECONDS = 900;
export const PATIENT_TOKEN_TYP = 'ktc-patient+jwt';

const invalid = (why: string) => new DomainError('ERR_MDL_PATIENT_TOKEN', why);

export interface PatientAccessTokens {
  issue(identity: VerifiedIdentity): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<VerifiedIdentity>;
  /** Header check only (typ), to route a bearer token to this verifier. */
  isOne(token: string): boolean;
}

/**
 * What a patient gets for an mDL presentation: an ES256 JWT signed with the gateway key, carrying
 * the verified identity (issuer, pseudonymous subject, levels, name and birth date for binding),
 * so it reads that patient's check-ins and visits like an identity token from a provider would.
 */
export function patientAccessTokens(keys: KeyStore, gateway: string, clock: Clock): PatientAccessTokens {
  return {
    async issue(identity) {
      const key = keys.signingKey();
      const now = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({
        idp: identity.issuer,
        ial: identity.ial,
        aal: identity.aal,
        name: identity.name,
        birthdate: identity.birthDate,
        evidence: identity.evidence,
      })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: PATIENT_TOKEN_TYP })
        .setIssuer(gateway)
        .setAudience(gateway)
        .setSubject(identity.subject)
        .setIssuedAt(now)
        .setExpirationTime(now + PATIENT_ACCESS_TOKEN_TTL_SECONDS)
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
      return { token, expiresIn: PATIENT_ACCESS_TOKEN_TTL_SECONDS };
    },
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys.verificationKeys(), {
          issuer: gateway,
          audience: gateway,
          algorithms: ['ES256'],
          typ: PATIENT_TOKEN_TYP,
          currentDate: new Date(clock.now()),
          clockTolerance: 5,
          requiredClaims: ['exp', 'sub', 'iat'],
        }));
      } catch (e) {
        throw invalid(e instanceof joseErrors.JWTExpired ? 'The patient access token has expired; present the licence again' : 'The patient access token is not valid');
      }
      const { idp, ial, aal, name, birthdate, evidence } = payload as Record<string, unknown>;
      if (typeof idp !== 'string' || typeof ial !== 'number' || typeof aal !== 'number') throw invalid('The patient access token is not valid');
      return {
        issuer: idp,
        subject: payload.sub as string,
        ial,
        aal,
        ...(name && typeof name === 'object' ? { name: name as VerifiedIdentity['name'] } : {}),
        ...(typeof birthdate === 'string' ? { birthDate: birthdate } : {}),
        evidence: (evidence && typeof evidence === 'object' ? evidence : {}) as VerifiedIdentity['evidence'],
      };
    },
    isOne(token) {
      try {
        return decodeProtectedHeader(token).typ === PATIENT_TOKEN_TYP;
      } catch {
        return false;
      }
    },
  };
}
