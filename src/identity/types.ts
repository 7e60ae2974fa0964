import type { PurposeOfUse } from './purpose-of-use.js';

/** What the identity layer proves about a caller; routes see only these shapes. */

import type { IdentityRequestView } from './mdl/mdl-identity.js';
import type { IdentityPresentation } from './mdl/presentation.js';
import type { RequestOwner } from './mdl/request-store.js';

/** A patient, proven by an identity token from a trusted provider at IAL2/AAL2 or better. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  ial: number;
  aal: number;
  /** Proofed (or, failing that, token-level) name and birth date, for binding to the Patient. */
  name?: { given: string[]; family?: string; text?: string };
  birthDate?: string;
  /** The claim values that decided the levels, recorded in Provenance and audit. */
  evidence: {
    acr?: string;
    amr?: string[];
    trustFramework?: string;
    assuranceLevel?: string;
    verificationTime?: string;
    /** The credential that proved the identity when it was not a token, e.g. "ISO 18013-5 mDL". */
    credential?: string;
    /** For an mDL: the issuing authority it names (e.g. a state DMV). */
    issuingAuthority?: string;
  };
}

/** A registered client (kiosk, EHR, network), proven by a gateway-issued SMART backend access token. */
export interface ClientPrincipal {
  clientId: string;
  /** The tenant boundary: a client sees and changes only its own organization's data. */
  organization: string;
  scopes: readonly string[];
  /**
   * Purposes of use (v3-ActReason) the token was granted from the client's UDAP hl7-b2b claim.
   * With none, the client acts only within its organization; with some, it may receive other
   * organizations' data where an agreement or a patient's consent grants one of them.
   */
  purposes?: readonly PurposeOfUse[];
}

export type Principal = { kind: 'client'; client: ClientPrincipal } | { kind: 'patient'; identity: VerifiedIdentity };

export interface Authenticator {
  /** Verifies a gateway-issued client access token; throws ERR_ACCESS_TOKEN when it is not one. */
  client(token: string): Promise<ClientPrincipal>;
  /** Verifies a patient identity token; throws 401 (bad token), 403 (assurance too low) or 502 (JWKS unreachable). */
  patient(token: string): Promise<VerifiedIdentity>;
  /**
   * Verifies an identity token from a trusted provider only, for creating a check-in: the gateway's
   * own patient token (an mDL exchanged for reads of the patient's own records) is refused with 401.
   */
  identityToken(token: string): Promise<VerifiedIdentity>;
  /** True when the token was issued by the gateway itself (a client access token). */
  isClientToken(token: string): boolean;
  /** Verifies an mDL presented over OpenID4VP for one of `owner`'s open requests, using it up. */
  presentation(p: IdentityPresentation, owner: RequestOwner): Promise<VerifiedIdentity>;
  /** A new single-use OpenID4VP request for an mDL (400 when no IACA is configured). */
  identityRequest(owner: RequestOwner): Promise<IdentityRequestView>;
  /** The gateway-signed patient token a verified mDL is exchanged for. */
  patientAccessToken(identity: VerifiedIdentity): Promise<{ token: string; expiresIn: number }>;
}
