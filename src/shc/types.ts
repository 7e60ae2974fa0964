import type { Bundle } from '@medplum/fhirtypes';

/** The credential type every SMART Health Card carries; other (legacy) types are ignored. */
export const HEALTH_CARD_TYPE = 'https://smarthealth.cards#health-card';

/** The JWS payload of a card (spec §2), after inflation. */
export interface ShcPayload {
  iss: string;
  /** Seconds since the epoch; may be fractional. */
  nbf: number;
  exp?: number;
  vc: {
    type: string[];
    credentialSubject: { fhirVersion: string; fhirBundle: Bundle };
    rid?: string;
  };
}

export interface VerifiedCard {
  jws: string;
  issuer: string;
  /** From configuration, for trusted issuers that have one. */
  issuerName?: string;
  kid: string;
  /**
   * True when the signature verified with a trusted issuer's key. False when the issuer is not
   * configured and policy (acceptUnknownShcIssuers) lets such cards in: keys are fetched only for
   * configured issuers, so that card's signature was not checked and its content is unverified.
   */
  verified: boolean;
  nbf: number;
  bundle: Bundle;
  payload: ShcPayload;
}
