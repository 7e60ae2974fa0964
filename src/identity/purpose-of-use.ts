/**
 * Purposes of use (HL7 v3-ActReason, OID 2.16.840.1.113883.5.8) as a client states them in the
 * UDAP B2B authorization extension (`extensions["hl7-b2b"].purpose_of_use`) of its client
 * assertion. Reference servers use the OID spelling, later IG examples the terminology URI: both
 * name the same codes.
 */

/** Purposes a data-sharing agreement can grant. */
export const AGREEMENT_PURPOSES = ['TREAT', 'HPAYMT', 'HOPERAT', 'PUBHLTH', 'COVERAGE'] as const;
/** Patient requested: granted by the patient's own Consent, never by an agreement. */
export const PATIENT_REQUEST = 'PATRQT';
export const PURPOSES = [...AGREEMENT_PURPOSES, PATIENT_REQUEST] as const;
export type PurposeOfUse = (typeof PURPOSES)[number];

export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SPELLINGS = ['urn:oid:2.16.840.1.113883.5.8#', `${ACT_REASON_SYSTEM}#`];

export function isPurposeOfUse(code: unknown): code is PurposeOfUse {
  return typeof code === 'string' && (PURPOSES as readonly string[]).includes(code);
}

/** The code of one `purpose_of_use` entry in either spelling, or undefined when it is neither or names another code. */
export function parsePurposeOfUse(value: unknown): PurposeOfUse | undefined {
  if (typeof value !== 'string') return undefined;
  const prefix = SPELLINGS.find((p) => value.startsWith(p));
  const code = prefix ? value.slice(prefix.length) : undefined;
  return isPurposeOfUse(code) ? code : undefined;
}

export class B2bExtensionError extends Error {}

/** The UDAP `hl7-b2b` object the gateway reads (version 1). */
export interface B2bAuthorization {
  organizationId: string;
  purposes: PurposeOfUse[];
}

/**
 * Reads `extensions["hl7-b2b"]` of a verified client assertion; undefined when the client sent
 * none. Required members (UDAP Security IG §5.2.1.1): version "1", organization_id and a
 * non-empty purpose_of_use, whose every entry must be a purpose this gateway knows.
 */
export function readB2bExtension(claims: Record<string, unknown>): B2bAuthorization | undefined {
  const extensions = claims.extensions;
  if (extensions === undefined) return undefined;
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) throw new B2bExtensionError('extensions must be an object');
  const b2b = (extensions as Record<string, unknown>)['hl7-b2b'];
  if (b2b === undefined) return undefined;
  if (typeof b2b !== 'object' || b2b === null || Array.isArray(b2b)) throw new B2bExtensionError('extensions.hl7-b2b must be an object');
  const o = b2b as Record<string, unknown>;
  if (o.version !== '1') throw new B2bExtensionError('extensions.hl7-b2b.version must be "1"');
  if (typeof o.organization_id !== 'string' || !o.organization_id || o.organization_id.length > 512) {
    throw new B2bExtensionError('extensions.hl7-b2b.organization_id is required');
  }
  if (o.organization_name !== undefined && typeof o.organization_name !== 'string') throw new B2bExtensionError('extensions.hl7-b2b.organization_name must be a string');
  const list = o.purpose_of_use;
  if (!Array.isArray(list) || list.length === 0 || list.length > 20) throw new B2bExtensionError('extensions.hl7-b2b.purpose_of_use must list 1 to 20 purposes');
  const purposes = list.map((p) => {
    const code = parsePurposeOfUse(p);
    if (!code) throw new B2bExtensionError(`purpose_of_use "${String(p).slice(0, 80)}" is not a v3-ActReason purpose this gateway knows (${PURPOSES.join(', ')})`);
    return code;
  });
  return { organizationId: o.organization_id, purposes: [...new Set(purposes)] };
}
