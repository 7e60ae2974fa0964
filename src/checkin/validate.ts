import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { PROFILE } from '../fhir/profile-urls.js';
import { type ProfileContext, isIpsDocument, selectProfiles } from '../fhir/profile-selection.js';
import type { FhirValidator } from '../fhir/validator.js';
import type { ReceivedContent } from './received.js';

/**
 * What check-in validation found. Pure data, so it can cross a worker-thread boundary: the
 * caller refuses (422) when `errors` is not empty, otherwise stores everything but `dropped` and
 * returns `warnings` with the check-in.
 */
export interface CheckinValidation {
  errors: OperationOutcomeIssue[];
  warnings: OperationOutcomeIssue[];
  dropped: EntryRef[];
}

export interface EntryRef {
  bundleIndex: number;
  entryIndex: number;
}

/** Binary content above this (base64 characters) is not stored from a check-in. */
export const MAX_CHECKIN_BINARY_CHARS = 512 * 1024;

/** Rules check-in itself needs of every resource of a type, whatever it claims. */
const CHECKIN_NEEDS: Partial<Record<string, string[]>> = {
  // The Patient is bound to the verified identity by name and birth date.
  Patient: [PROFILE.shcPatient],
  // A front desk bills an insurance card by its payor and member id.
  Coverage: [PROFILE.checkinCoverage],
};

/** Why the gateway does not store an entry of a check-in, or undefined when it does. */
function notStored(resource: Resource): string | undefined {
  if (resource.resourceType === 'Bundle') return 'a Bundle inside a Bundle is not stored';
  const data = resource.resourceType === 'Binary' ? resource.data : undefined;
  if (typeof data === 'string' && data.length > MAX_CHECKIN_BINARY_CHARS) return `a Binary over ${MAX_CHECKIN_BINARY_CHARS} base64 characters is not stored`;
  return undefined;
}

const warning = (code: OperationOutcomeIssue['code'], diagnostics: string, expression: string): OperationOutcomeIssue => ({
  severity: 'warning',
  code,
  diagnostics,
  expression: [expression],
});

function unknownClaimWarnings(unknown: string[], at: string): OperationOutcomeIssue[] {
  return unknown.map((url) =>
    warning('not-supported', `The claimed profile ${url} is not known here; validated against the base spec and the profiles this gateway knows`, `${at}.meta.profile`),
  );
}

/** Entry types whose number and position the IPS Bundle rules constrain. */
const IPS_COUNTED = new Set(['Composition', 'Patient']);

/**
 * The IPS Bundle rules concern the entries' types, order and envelope (fullUrl, no request or
 * search), not their content, which each entry's own check covers; and FHIRPath over every entry is
 * slow (bdl-7 alone compares all fullUrls). So the Bundle is checked as a skeleton: the first entry,
 * every Composition and Patient, every entry whose envelope breaks a rule, and one ordinary entry
 * (the rest are interchangeable with it), each resource cut to its type. Issues inside those
 * stand-ins are discarded (they would be about the cut); the others are mapped back to the entry sent.
 */
function ipsBundleIssues(bundle: Bundle, fhir: FhirValidator): OperationOutcomeIssue[] {
  const entries: unknown[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  const kept: number[] = [];
  let ordinary = false;
  entries.forEach((e, i) => {
    const entry = (e && typeof e === 'object' ? e : {}) as BundleEntry;
    const type = entry.resource?.resourceType;
    const plain = typeof entry.fullUrl === 'string' && typeof type === 'string' && !entry.request && !entry.response && !entry.search && Object.keys(entry).length === 2;
    if (i === 0 || !plain || IPS_COUNTED.has(type!) || !ordinary) kept.push(i);
    if (i > 0 && plain && !IPS_COUNTED.has(type!)) ordinary = true;
  });
  const skeleton = kept.map((i) => {
    const e = entries[i] as BundleEntry | null;
    return e && typeof e === 'object' && e.resource && typeof e.resource === 'object' ? { ...e, resource: { resourceType: e.resource.resourceType } } : e;
  });
  const inStub = /^Bundle\.entry\[\d+\]\.resource(\.|$)/;
  const original = (x: string) => x.replace(/^Bundle\.entry\[(\d+)\]/, (_, k: string) => `Bundle.entry[${kept[Number(k)]}]`);
  return fhir
    .checkAll({ ...bundle, entry: skeleton as BundleEntry[] }, [PROFILE.ipsBundle])
    .filter((i) => !(i.expression ?? []).some((x) => inStub.test(x)))
    .map((i) => ({ ...i, ...(i.expression ? { expression: i.expression.map(original) } : {}) }));
}

interface BundleResult {
  errors: OperationOutcomeIssue[];
  warnings: OperationOutcomeIssue[];
  dropped: number[];
  patients: number;
}

function validateOneBundle(bundle: Bundle, context: ProfileContext, fhir: FhirValidator): BundleResult {
  const r: BundleResult = { errors: [], warnings: [], dropped: [], patients: 0 };
  if (bundle.type === undefined) r.errors.push({ severity: 'error', code: 'required', diagnostics: 'Bundle.type is required', expression: ['Bundle.type'] });
  const ips = context === 'ips';
  const bundleSelection = selectProfiles(bundle, context, fhir.knows);
  r.warnings.push(...unknownClaimWarnings(bundleSelection.unknown, 'Bundle'));
  if (ips) r.errors.push(...ipsBundleIssues(bundle, fhir));
  (Array.isArray(bundle.entry) ? bundle.entry : []).forEach((entry, i) => {
    const resource = entry?.resource;
    if (!resource) return;
    const at = `Bundle.entry[${i}].resource`;
    const skip = typeof resource === 'object' && typeof resource.resourceType === 'string' ? notStored(resource) : undefined;
    if (skip) {
      r.dropped.push(i);
      r.warnings.push(warning('informational', `Not stored: ${skip}`, at));
      return;
    }
    const required = [...(CHECKIN_NEEDS[resource.resourceType] ?? []), ...(ips && resource.resourceType === 'Composition' ? [PROFILE.ipsComposition] : [])];
    const selection = selectProfiles(resource, context, fhir.knows, required);
    r.warnings.push(...unknownClaimWarnings(selection.unknown, at));
    r.errors.push(...fhir.checkAll(resource, selection.profiles, at));
    if (resource.resourceType === 'Patient') r.patients++;
  });
  return r;
}

/** With several bundles (several cards or files) the path names which one. */
function locate(content: ReceivedContent, bundleIndex: number, issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  if (content.bundles.length < 2) return issues;
  return issues.map((i) => ({ ...i, expression: i.expression?.map((x) => `(${content.method}[${bundleIndex}]).${x}`) }));
}

/**
 * Validates every received resource against the base spec, the profiles it claims (and the IPS
 * rules when it came in an IPS document) and what check-in needs, and collects every problem,
 * each located as `Bundle.entry[i].resource...` in the bundle sent. A pure function of its input:
 * no clock, database or I/O, so it can run in a worker thread.
 */
export function validateCheckin(content: ReceivedContent, fhir: FhirValidator): CheckinValidation {
  const out: CheckinValidation = { errors: [], warnings: [], dropped: [] };
  let patients = 0;
  content.bundles.forEach(({ bundle, profileSet }, bundleIndex) => {
    const context: ProfileContext = profileSet === 'shc' ? 'shc' : isIpsDocument(bundle) ? 'ips' : 'fhir';
    const r = validateOneBundle(bundle, context, fhir);
    out.errors.push(...locate(content, bundleIndex, r.errors));
    out.warnings.push(...locate(content, bundleIndex, r.warnings));
    out.dropped.push(...r.dropped.map((entryIndex) => ({ bundleIndex, entryIndex })));
    patients += r.patients;
  });
  if (patients !== 1) {
    out.errors.push({ severity: 'error', code: 'business-rule', diagnostics: `A check-in needs exactly one Patient; found ${patients}`, expression: ['Bundle.entry'] });
  }
  return out;
}

/** The content without the entries validation dropped (what is stored). */
export function withoutDropped(content: ReceivedContent, dropped: readonly EntryRef[]): ReceivedContent {
  if (!dropped.length) return content;
  const drop = new Set(dropped.map((d) => `${d.bundleIndex}/${d.entryIndex}`));
  return {
    ...content,
    bundles: content.bundles.map((b, bundleIndex) => ({
      ...b,
      bundle: { ...b.bundle, entry: (b.bundle.entry ?? []).filter((_, entryIndex) => !drop.has(`${bundleIndex}/${entryIndex}`)) },
    })),
  };
}
