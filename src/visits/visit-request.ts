import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { HttpError, badRequest } from '../fhir/outcome.js';
import type { ReadingLevel } from '../summaries/readability.js';
import { parseSummaryRequest } from '../summaries/summary-request.js';

export const DEFAULT_VISIT_LINK_SECONDS = 30 * 24 * 3600;
/** A year: links to a visit record are for taking it home, not for hosting it forever. */
const MAX_VISIT_LINK_SECONDS = 365 * 24 * 3600;

export interface VisitRequest {
  bundle: Bundle;
  passcode?: string;
  expiresInSeconds: number;
  singleFile: boolean;
  /** Write the plain-language summary now and add its FHIR form to the link. */
  plainLanguageSummary?: { language: string; readingLevel: ReadingLevel };
}

type ParameterLookup = { get: (name: string) => ParametersParameter | undefined; at: (name: string) => string };

/** Each parameter known and given once; lookups by name, and the FHIRPath of one for error reports. */
function parametersOf(body: Parameters, names: string[]): ParameterLookup {
  const params = body.parameter ?? [];
  const known = new Set(names);
  params.forEach((p, i) => {
    if (!known.has(p.name ?? '')) throw badRequest(`Unknown parameter ${p.name ?? '(no name)'}`, [`Parameters.parameter[${i}].name`]);
    if (params.findIndex((q) => q.name === p.name) !== i) throw badRequest(`Parameter ${p.name} is repeated`, [`Parameters.parameter[${i}]`]);
  });
  return { at: (name) => `Parameters.parameter[${params.findIndex((p) => p.name === name)}]`, get: (name) => params.find((p) => p.name === name) };
}

/** The document's own language (Bundle, else its Composition), the summary's default. */
function documentLanguage(bundle: Bundle): string | undefined {
  const composition = bundle.entry?.[0]?.resource;
  const tag = bundle.language ?? (composition?.resourceType === 'Composition' ? composition.language : undefined);
  return typeof tag === 'string' && tag ? tag : undefined;
}

/**
 * `language` (valueCode, BCP 47; default the document's language, else en) and `readingLevel`
 * (valueCode), checked by the summary service's own parser so both routes accept the same values.
 */
function summaryOptions({ get, at }: ParameterLookup, bundle: Bundle): NonNullable<VisitRequest['plainLanguageSummary']> {
  const language = get('language');
  const readingLevel = get('readingLevel');
  if (language && typeof language.valueCode !== 'string') throw badRequest('language must be a valueCode (BCP 47)', [`${at('language')}.valueCode`]);
  if (readingLevel && typeof readingLevel.valueCode !== 'string') throw badRequest('readingLevel must be a valueCode', [`${at('readingLevel')}.valueCode`]);
  const explicit = language?.valueCode;
  try {
    return parseSummaryRequest({
      language: explicit ?? documentLanguage(bundle),
      ...(readingLevel ? { readingLevel: readingLevel.valueCode } : {}),
    });
  } catch (e) {
    // An unusable language in the document itself is not the caller's mistake: English then
    // (a bad readingLevel fails again here, and is reported).
    if (e instanceof HttpError && !explicit) {
      return parseSummaryRequest(readingLevel ? { readingLevel: readingLevel.valueCode } : {});
    }
    throw e;
  }
}

/**
 * The body is the document Bundle alone (defaults), or a FHIR Parameters with `bundle` (resource),
 * `passcode` (valueString), `expiresIn` (valueInteger seconds), `singleFile` (valueBoolean) and
 * `plainLanguageSummary` (valueBoolean) with `language` and `readingLevel` (valueCode).
 * Passcodes never travel in the query string.
 */
export function parseVisitRequest(body: unknown, query: Record<string, unknown>): VisitRequest {
  if ('passcode' in query) throw badRequest('Send the passcode in a Parameters body, never in the query string', ['passcode']);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a FHIR Bundle or Parameters');
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType === 'Bundle') return { bundle: body as Bundle, expiresInSeconds: DEFAULT_VISIT_LINK_SECONDS, singleFile: false };
  if (resourceType !== 'Parameters') throw badRequest('The body must be a FHIR Bundle or Parameters', ['resourceType']);

  const { get, at } = parametersOf(body as Parameters, ['bundle', 'passcode', 'expiresIn', 'singleFile', 'plainLanguageSummary', 'language', 'readingLevel']);

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

  const summaryParam = get('plainLanguageSummary');
  const withSummary = summaryParam ? summaryParam.valueBoolean : false;
  if (typeof withSummary !== 'boolean') throw badRequest('plainLanguageSummary must be a valueBoolean', [`${at('plainLanguageSummary')}.valueBoolean`]);
  if (!withSummary && (get('language') || get('readingLevel'))) {
    throw badRequest('language and readingLevel apply to the plain-language summary: send plainLanguageSummary true', [at(get('language') ? 'language' : 'readingLevel')]);
  }
  // A U-flag link holds exactly one file, the signed card; the summary needs a manifest link.
  if (withSummary && singleFile) throw badRequest('A single-file (U flag) link cannot also carry the plain-language summary', [at('singleFile')]);

  return {
    bundle: bundle as Bundle,
    ...(passcode ? { passcode } : {}),
    expiresInSeconds: expiresIn,
    singleFile,
    ...(withSummary ? { plainLanguageSummary: summaryOptions({ get, at }, bundle as Bundle) } : {}),
  };
}

export interface LinkSummaryRequest {
  /** The visit's link as the gateway returned it: the gateway keeps no link keys, so the caller brings it. */
  shlink: string;
  options: NonNullable<VisitRequest['plainLanguageSummary']>;
}

/**
 * POST /visits/{id}/$add-plain-language-summary: a FHIR Parameters with `shlink` (valueString, the
 * link of the visit) and, as at creation, `language` and `readingLevel` (valueCode).
 */
export function parseLinkSummaryRequest(body: unknown, bundle: Bundle): LinkSummaryRequest {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Parameters') {
    throw badRequest('The body must be a FHIR Parameters with shlink, and optionally language and readingLevel');
  }
  const { get, at } = parametersOf(body as Parameters, ['shlink', 'language', 'readingLevel']);
  const shlink = get('shlink')?.valueString;
  if (typeof shlink !== 'string' || !shlink) throw badRequest('Parameter shlink (valueString) must carry the link of this visit', ['Parameters.parameter']);
  return { shlink, options: summaryOptions({ get, at }, bundle) };
}
