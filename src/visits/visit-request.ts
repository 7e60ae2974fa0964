import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';

export const DEFAULT_VISIT_LINK_SECONDS = 30 * 24 * 3600;
/** A year: links to a visit record are for taking it home, not for hosting it forever. */
const MAX_VISIT_LINK_SECONDS = 365 * 24 * 3600;

export interface VisitRequest {
  bundle: Bundle;
  passcode?: string;
  expiresInSeconds: number;
  singleFile: boolean;
}

/**
 * The body is the document Bundle alone (defaults), or a FHIR Parameters with `bundle` (resource),
 * `passcode` (valueString), `expiresIn` (valueInteger seconds) and `singleFile` (valueBoolean).
 * Passcodes never travel in the query string.
 */
export function parseVisitRequest(body: unknown, query: Record<string, unknown>): VisitRequest {
  if ('passcode' in query) throw badRequest('Send the passcode in a Parameters body, never in the query string', ['passcode']);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a FHIR Bundle or Parameters');
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType === 'Bundle') return { bundle: body as Bundle, expiresInSeconds: DEFAULT_VISIT_LINK_SECONDS, singleFile: false };
  if (resourceType !== 'Parameters') throw badRequest('The body must be a FHIR Bundle or Parameters', ['resourceType']);

  const params = (body as Parameters).parameter ?? [];
  const known = new Set(['bundle', 'passcode', 'expiresIn', 'singleFile']);
  params.forEach((p, i) => {
    if (!known.has(p.name ?? '')) throw badRequest(`Unknown parameter ${p.name ?? '(no name)'}`, [`Parameters.parameter[${i}].name`]);
    if (params.findIndex((q) => q.name === p.name) !== i) throw badRequest(`Parameter ${p.name} is repeated`, [`Parameters.parameter[${i}]`]);
  });
  const at = (name: string) => `Parameters.parameter[${params.findIndex((p) => p.name === name)}]`;
  const get = (name: string) => params.find((p) => p.name === name);

  const bundle = get('bundle')?.resource;
  if (bundle?.resourceType !== 'Bundle') throw badRequest('Parameter bundle must carry the document Bundle as resource', [get('bundle') ? at('bundle') : 'Parameters.parameter']);

  const passcodeParam = get('passcode');
  const passcode = passcodeParam?.valueString;
  if (passcodeParam && (typeof passcode !== 'string' || passcode.length < 4 || passcode.length > 64)) {
    throw badRequest('passcode must be a valueString of 4 to 64 characters', [`${at('passcode')}.valueString`]);
  }

  const expiresParam = get('expiresIn');
  const expiresIn = expiresParam ? expiresParam.valueInteger : DEFAULT_VISIT_LINK_SECONDS;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 60 || expiresIn > MAX_VISIT_LINK_SECONDS) {
    throw badRequest(`expiresIn must be a valueInteger from 60 to ${MAX_VISIT_LINK_SECONDS} seconds`, [`${at('expiresIn')}.valueInteger`]);
  }

  const singleParam = get('singleFile');
  const singleFile = singleParam ? singleParam.valueBoolean : false;
  if (typeof singleFile !== 'boolean') throw badRequest('singleFile must be a valueBoolean', [`${at('singleFile')}.valueBoolean`]);
  // SMART Health Links: the U flag SHALL NOT be combined with P.
  if (singleFile && passcode) throw badRequest('A single-file (U flag) link cannot also require a passcode', [at('singleFile')]);

  return { bundle: bundle as Bundle, ...(passcode ? { passcode } : {}), expiresInSeconds: expiresIn, singleFile };
}
