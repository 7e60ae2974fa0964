import { MDLError, Verifier, type IssuerSignedDocument, VerificationAssessmentId } from '@auth0/mdl';
import { X509Certificate } from '@peculiar/x509';
import type { Clock } from '../../clock.js';
import { DomainError } from '../../errors.js';
import type { VerifiedIdentity } from '../types.js';
import type { IdentityPresentation } from './presentation.js';
import { CREDENTIAL_QUERY_ID, DC_API_PROTOCOL, MDL_DOCTYPE, MDL_NAMESPACE } from './request.js';
import { dcApiSessionTranscript, sessionTranscriptBytes } from './session-transcript.js';
import { anchorFor, type TrustAnchor } from './trust-anchors.js';

export const MDL_CREDENTIAL = 'ISO 18013-5 mDL';
/** The levels a check-in or patient read needs, as for identity tokens. */
const REQUIRED = { ial: 2, aal: 2 };

/** The claims read from a verified mDL (issuer-signed, digests checked). */
export interface MdlClaims {
  familyName: string;
  givenName: string;
  birthDate: string;
  documentNumber: string;
  issuingAuthority?: string;
}

const refuse = (why: string) => new DomainError('ERR_MDL_PRESENTATION', `The mobile driver's licence was not accepted: ${why}`);

export function assertProtocol(p: IdentityPresentation): void {
  if (p.protocol !== DC_API_PROTOCOL)
    throw new DomainError('ERR_MDL_MALFORMED', `identityPresentation.protocol must be ${DC_API_PROTOCOL}`, { expression: ['identityPresentation.protocol'] });
}

/** The one DeviceResponse of the answer, keyed by the credential query id the request used. */
export function deviceResponseOf(vpToken: Record<string, string[]>): Uint8Array {
  const keys = Object.keys(vpToken);
  const answers = vpToken[CREDENTIAL_QUERY_ID];
  if (keys.length !== 1 || !answers || answers.length !== 1) {
    throw new DomainError('ERR_MDL_MALFORMED', `identityPresentation.data.vp_token must hold exactly one presentation under "${CREDENTIAL_QUERY_ID}"`, {
      expression: ['identityPresentation.data.vp_token'],
    });
  }
  return Buffer.from(answers[0] as string, 'base64url');
}

/** Checks the library reports; the MSO validity check it makes against the system clock is redone with ours. */
function collectFailures(): { failures: string[]; onCheck: (c: { status: string; id?: string; check: string }) => void } {
  const failures: string[] = [];
  return {
    failures,
    onCheck: (c) => {
      if (c.id === VerificationAssessmentId.ISSUER_AUTH.MsoValidityAtVerificationTime) return;
      if (c.status === 'FAILED') failures.push(c.check);
    },
  };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** birth_date is a CBOR full-date (tag 1004, decoded as a Date at midnight UTC) or, in older mDLs, a string. */
function fullDate(v: unknown): string | undefined {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString().slice(0, 10);
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
}

function claimsOf(doc: IssuerSignedDocument): MdlClaims {
  // The library's getter throws a TypeError (a 500) when the document has no such namespace.
  const ns = doc.issuerSignedNameSpaces.includes(MDL_NAMESPACE) ? doc.getIssuerNameSpace(MDL_NAMESPACE) : {};
  const familyName = text(ns.family_name);
  const givenName = text(ns.given_name);
  const birthDate = fullDate(ns.birth_date);
  const documentNumber = text(ns.document_number);
  if (!familyName || !givenName || !birthDate || !documentNumber) {
    throw refuse('it must disclose family_name, given_name, birth_date and document_number');
  }
  const issuingAuthority = text(ns.issuing_authority);
  return { familyName, givenName, birthDate, documentNumber, ...(issuingAuthority ? { issuingAuthority } : {}) };
}

export interface VerifiedMdl {
  claims: MdlClaims;
  anchor: TrustAnchor;
}

/**
 * ISO 18013-5 §9.1 with @auth0/mdl: issuer signature by a DS certificate chaining to a configured
 * IACA, digest of every disclosed element, device signature over the OpenID4VP DC API
 * SessionTranscript of this origin and nonce. Then, with the gateway's clock: MSO and certificate
 * validity. Every refusal is 401 and names the failed check, never the licence's content.
 */
export async function verifyDeviceResponse(
  bytes: Uint8Array,
  ctx: { origin: string; nonce: string; jwkThumbprint?: Uint8Array; anchors: TrustAnchor[]; clock: Clock },
): Promise<VerifiedMdl> {
  const transcript = sessionTranscriptBytes(dcApiSessionTranscript(ctx.origin, ctx.nonce, ctx.jwkThumbprint ?? null));
  const { failures, onCheck } = collectFailures();
  let mdoc: Awaited<ReturnType<Verifier['verify']>>;
  try {
    mdoc = await new Verifier(ctx.anchors.map((a) => a.pem)).verify(bytes, { encodedSessionTranscript: transcript, onCheck });
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw refuse(e instanceof MDLError ? e.message.slice(0, 200) : 'it is not a well-formed DeviceResponse');
  }
  if (failures.length) throw refuse(failures[0] as string);
  if (mdoc.documents.length !== 1) throw refuse('it must hold exactly one document');
  const doc = mdoc.documents[0] as IssuerSignedDocument;
  if (doc.docType !== MDL_DOCTYPE) throw refuse(`the document is not a ${MDL_DOCTYPE}`);

  const now = new Date(ctx.clock.now());
  const { validityInfo } = doc.issuerSigned.issuerAuth.decodedPayload;
  if (!(validityInfo.validFrom.getTime() <= now.getTime() && now.getTime() <= validityInfo.validUntil.getTime())) {
    throw refuse('the licence data is not valid now (expired or not yet valid)');
  }
  const chain = doc.issuerSigned.issuerAuth.x5chain;
  if (!chain?.[0]) throw refuse('it names no document signer certificate');
  const { anchor, problem } = await anchorFor(new X509Certificate(new Uint8Array(chain[0])), ctx.anchors, now);
  if (!anchor) throw refuse(problem ?? 'untrusted issuer');
  return { claims: claimsOf(doc), anchor };
}

/** The identity an mDL proves, refused with 403 when its IACA's policy gives less than IAL2/AAL2. */
export function identityOf(m: VerifiedMdl, subject: string): VerifiedIdentity {
  const { ial, aal } = m.anchor;
  const short = [ial < REQUIRED.ial ? `IAL2 (it proves IAL${ial})` : '', aal < REQUIRED.aal ? `AAL2 (it proves AAL${aal})` : ''].filter(Boolean);
  if (short.length) throw new DomainError('ERR_MDL_ASSURANCE', `The mobile driver's licence falls short of ${short.join(' and ')} under the policy for its IACA`);
  return {
    issuer: m.anchor.issuer,
    subject,
    ial,
    aal,
    name: { given: m.claims.givenName.split(/\s+/), family: m.claims.familyName },
    birthDate: m.claims.birthDate,
    evidence: {
      credential: MDL_CREDENTIAL,
      ...(m.claims.issuingAuthority ? { issuingAuthority: m.claims.issuingAuthority } : {}),
    },
  };
}
