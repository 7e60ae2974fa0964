/** What the identity layer proves about a caller; routes see only these shapes. */

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
  };
}

/** A registered client (kiosk, EHR, network), proven by a gateway-issued SMART backend access token. */
export interface ClientPrincipal {
  clientId: string;
  /** The tenant boundary: a client sees and changes only its own organization's data. */
  organization: string;
  scopes: string[];
}

export type Principal = { kind: 'client'; client: ClientPrincipal } | { kind: 'patient'; identity: VerifiedIdentity };

export interface Authenticator {
  /** Verifies a gateway-issued client access token; throws ERR_ACCESS_TOKEN when it is not one. */
  client(token: string): Promise<ClientPrincipal>;
  /** Verifies a patient identity token; throws 401 (bad token), 403 (assurance too low) or 502 (JWKS unreachable). */
  patient(token: string): Promise<VerifiedIdentity>;
  /** True when the token was issued by the gateway itself (a client access token). */
  isClientToken(token: string): boolean;
}
