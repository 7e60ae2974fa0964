import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * The failures the libraries (shc/, shl/, identity/, net/, fhir/ validation) report, each with a
 * stable code. Libraries know nothing of HTTP: src/http/errors.ts holds the one table that turns a
 * code into a status and an OperationOutcome. Add a code here and the compiler asks for its row there.
 */
export type ErrorCode =
  // SMART Health Cards
  | 'ERR_SHC_INPUT' // the request's card field has the wrong shape
  | 'ERR_SHC_TOO_MANY_CARDS' // more cards (or QR chunks) in one input than MAX_CARDS_PER_INPUT
  | 'ERR_SHC_QR' // a numeric QR text that cannot be decoded
  | 'ERR_SHC_JWS_MALFORMED' // not a compact JWS with a JSON header
  | 'ERR_SHC_JWS_HEADER' // a JWS, but not with the header or signature size cards use
  | 'ERR_SHC_INFLATE_LIMIT' // payload inflates past the limit (a DEFLATE bomb)
  | 'ERR_SHC_DEFLATE' // payload is not raw DEFLATE
  | 'ERR_SHC_PAYLOAD' // payload is not a card payload
  | 'ERR_SHC_NOT_YET_VALID'
  | 'ERR_SHC_EXPIRED'
  | 'ERR_SHC_ISSUER_KEY' // the issuer publishes a key that breaks the card key rules
  | 'ERR_SHC_UNKNOWN_KID'
  | 'ERR_SHC_SIGNATURE'
  | 'ERR_SHC_REVOKED'
  | 'ERR_SHC_ISSUER_UNTRUSTED'
  | 'ERR_SHC_REVOCATION_LIST' // the issuer's revocation list is unusable
  // SMART Health Links: receiving
  | 'ERR_SHL_INVALID'
  | 'ERR_SHL_INSECURE_URL'
  | 'ERR_SHL_VERSION'
  | 'ERR_SHL_EXPIRED'
  | 'ERR_SHL_INACTIVE' // the host says the link is gone
  | 'ERR_SHL_PASSCODE_REQUIRED'
  | 'ERR_SHL_PASSCODE' // the host refused the passcode
  | 'ERR_SHL_HOST_THROTTLED'
  | 'ERR_SHL_HOST_ANSWER' // the host answered something unusable
  | 'ERR_SHL_FILE_LIMIT' // a file or all files together exceed the limit
  | 'ERR_SHL_FILE' // a file cannot be decrypted or is not what it is listed as
  // SMART Health Links: hosting
  | 'ERR_SHL_LINK_REQUEST' // a request to create a hosted link is invalid
  // Identity
  | 'ERR_IDENTITY_TOKEN' // the patient's identity token is not valid
  | 'ERR_ACCESS_TOKEN' // the client's access token is not valid
  | 'ERR_IDENTITY_ASSURANCE' // valid, but proves less than IAL2/AAL2
  | 'ERR_IDP_METADATA' // the identity provider's discovery document or keys are unusable
  // Mobile driver's licences (mDL over OpenID4VP)
  | 'ERR_MDL_NOT_CONFIGURED' // no mdl trust anchors: this gateway takes no licences
  | 'ERR_MDL_MALFORMED' // the presentation or its answer has the wrong shape
  | 'ERR_MDL_PRESENTATION' // the licence was not accepted (signature, issuer, validity, encryption)
  | 'ERR_MDL_ASSURANCE' // accepted, but falls short of the IACA's policy
  | 'ERR_MDL_REQUEST_UNKNOWN' // no such identity request (or not the caller's)
  | 'ERR_MDL_REQUEST_USED' // the identity request has already been answered
  | 'ERR_MDL_REQUEST_EXPIRED'
  | 'ERR_MDL_THROTTLED' // too many open identity requests (data.retryAfterSeconds)
  | 'ERR_MDL_PATIENT_TOKEN' // the patient access token issued after an mDL is not valid
  // Outbound requests (net/): the URL came from the caller unless said otherwise
  | 'ERR_OUTBOUND_URL' // the caller's URL cannot be fetched at all
  | 'ERR_OUTBOUND_REFUSED' // the caller's URL leads somewhere the guard refuses
  | 'ERR_OUTBOUND_TIMEOUT'
  | 'ERR_OUTBOUND_FAILED' // unreachable, oversize, redirect loop, bad status or body, or a configured URL refused
  // FHIR validation
  | 'ERR_FHIR_INVALID';

export interface DomainErrorOptions {
  /** For the operator's log only: host names, reasons, kinds. Never PHI, tokens, passcodes or URL paths. */
  detail?: string;
  /** FHIRPath or request-field locations the public message refers to. */
  expression?: string[];
  /** Problems found, when there are several (FHIR validation): these replace the single issue. */
  issues?: OperationOutcomeIssue[];
  /** Facts the edge may put in the answer (e.g. remainingAttempts, retryAfterSeconds). */
  data?: Record<string, string | number>;
  cause?: unknown;
}

/** A failure of a library with a stable code. `message` is public text, safe to show the caller. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly expression: string[] | undefined;
  readonly issues: OperationOutcomeIssue[] | undefined;
  readonly data: Record<string, string | number>;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.detail = options.detail;
    this.expression = options.expression;
    this.issues = options.issues;
    this.data = options.data ?? {};
  }
}

/** Shorthand for libraries: `fail('ERR_SHC_QR')('text', ['shc'])`. */
export function failWith(code: ErrorCode) {
  return (message: string, expression?: string[], detail?: string) => new DomainError(code, message, { expression, detail });
}
