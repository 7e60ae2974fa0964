import type { Bundle } from '@medplum/fhirtypes';

/**
 * Free text in a visit record (section narratives, notes, instructions) may repeat what the
 * structured parts hold: the patient's or a clinician's name, a record number, a phone number,
 * an address, a member id. Before any text leaves the gateway for the model, every such value
 * found anywhere in the Bundle is blanked out of it, and so are e-mail addresses, phone numbers
 * and SSN-shaped numbers that the Bundle does not list.
 */

export const REDACTED = '[redacted]';

/** Keys whose Reference.display names a person or an organization (not a medicine or a code). */
const WHO_KEYS = new Set([
  'actor',
  'asserter',
  'author',
  'beneficiary',
  'custodian',
  'generalPractitioner',
  'individual',
  'location',
  'managingOrganization',
  'onBehalfOf',
  'organization',
  'party',
  'patient',
  'payor',
  'performer',
  'policyHolder',
  'recorder',
  'requester',
  'serviceProvider',
  'subject',
  'subscriber',
  'who',
]);
/** Resource types whose `name` (a string) names a place or an organization. */
const NAMED_PLACES = new Set(['Organization', 'Location', 'HealthcareService', 'InsurancePlan']);
const ADDRESS_PARTS = ['line', 'city', 'district', 'postalCode', 'text'];

const PATTERNS = [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, /(?<![\d-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?![\d-])/g, /(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)/g];

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function asArray(v: unknown): Record<string, unknown>[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

/** Every identifying value the Bundle holds, anywhere (names split into their words). */
export function sensitiveValues(bundle: Bundle): string[] {
  const found = new Set<string>();
  const add = (s: string) => {
    const t = s.trim();
    if (t.replace(/[^\p{L}\p{N}]/gu, '').length >= 2) found.add(t);
  };
  const addWords = (s: string) => s.split(/\s+/).forEach(add);

  const walk = (node: unknown, key: string | undefined, resourceType: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, key, resourceType);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    const type = typeof o.resourceType === 'string' ? o.resourceType : resourceType;
    if (key === 'name') {
      for (const part of ['given', 'family', 'text']) strings(o[part]).forEach(addWords);
    }
    if (key === 'identifier' && typeof o.value === 'string') add(o.value);
    if (key === 'telecom' && typeof o.value === 'string') add(o.value);
    if (key === 'address') for (const part of ADDRESS_PARTS) strings(o[part]).forEach(add);
    // Whole phrase only: a display may name an organization ("Acme Health Plan"), whose words alone are common ones.
    if (key && WHO_KEYS.has(key) && typeof o.display === 'string') add(o.display);
    if (type === 'Coverage') {
      strings(o.subscriberId).forEach(add);
      for (const c of asArray(o.class)) strings(c.value).forEach(add);
    }
    if (type && NAMED_PLACES.has(type) && typeof o.name === 'string' && o.resourceType) add(o.name);
    for (const k of ['birthDate', 'subscriberId']) strings(o[k]).forEach(add);
    for (const [k, v] of Object.entries(o)) if (typeof v === 'object' && v !== null) walk(v, k, type);
  };
  walk(bundle, undefined, undefined);
  return [...found];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A function that blanks out, from any text, the Bundle's identifying values and contact-like patterns. */
export function redactorFor(bundle: Bundle): (text: string) => string {
  const values = sensitiveValues(bundle).sort((a, b) => b.length - a.length);
  const known = values.length ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${values.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'giu') : undefined;
  return (text) => {
    let out = known ? text.replace(known, REDACTED) : text;
    for (const p of PATTERNS) out = out.replace(p, REDACTED);
    return out;
  };
}
