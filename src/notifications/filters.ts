import type { Appointment, Encounter } from '@medplum/fhirtypes';

/** The resources whose changes fire topics. */
export type TopicResource = Encounter | Appointment;

/**
 * A search parameter a topic can be filtered by (SubscriptionTopic.canFilterBy), with how to read
 * its values off the resource. Semantics follow FHIR search: a reference value is `Type/id`, an
 * absolute URL ending in it, or a bare id; a token is `code`, `system|code`, `|code` or `system|`;
 * comma-separated values are alternatives.
 */
export type FilterParameter =
  | { name: string; description: string; kind: 'reference'; target?: string; read(r: TopicResource): (string | undefined)[] }
  | { name: string; description: string; kind: 'token'; read(r: TopicResource): { system?: string; code?: string }[] }
  /**
   * `patient.identifier=system|value` (chained; `patient:identifier` is the same search): matched
   * against the stored Patient's identifiers and verified identity through the subscription_patient
   * index when the event is recorded, never by reading the resource alone.
   */
  | { name: typeof PATIENT_IDENTIFIER; description: string; kind: 'patient-identifier' };

export const PATIENT_IDENTIFIER = 'patient.identifier';

/** One parsed backport-filter-criteria term; a Subscription's terms are ANDed. */
export interface Filter {
  name: string;
  values: string[];
}

export class FilterError extends Error {}

/** `Type/id` of a reference string (relative, absolute or versioned), or undefined for other forms. */
function typeAndId(reference: string): { type: string; id: string } | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[A-Za-z0-9.-]+)?$/.exec(reference);
  return m ? { type: m[1] as string, id: m[2] as string } : undefined;
}

function checkReferenceValue(p: Extract<FilterParameter, { kind: 'reference' }>, value: string): void {
  if (/^[A-Za-z0-9.-]{1,64}$/.test(value)) return;
  const ref = typeAndId(value);
  if (!ref) throw new FilterError(`${p.name} takes a reference (Type/id or id), not "${value.slice(0, 80)}"`);
  if (p.target && ref.type !== p.target) throw new FilterError(`${p.name} refers to a ${p.target}, not a ${ref.type}`);
}

function checkPatientIdentifierValue(value: string): void {
  const bar = value.indexOf('|');
  if (bar <= 0 || bar === value.length - 1 || value.length > 512) {
    throw new FilterError(`${PATIENT_IDENTIFIER} takes system|value, both given, not "${value.slice(0, 80)}"`);
  }
}

function checkTokenValue(p: FilterParameter, value: string): void {
  if (!/^[^|\s]*(\|[^|\s]*)?$/.test(value) || value === '|') throw new FilterError(`${p.name} takes a token (code or system|code), not "${value.slice(0, 80)}"`);
}

/**
 * Parses one backport-filter-criteria string, `[Type?]name=value[&name=value...]` (the IG example
 * is `Encounter?patient=Patient/123`), against the parameters the topic can filter by.
 */
export function parseFilterCriteria(text: string, resourceType: string, params: readonly FilterParameter[]): Filter[] {
  let query = text.trim();
  const q = query.indexOf('?');
  if (q >= 0) {
    const type = query.slice(0, q);
    if (type !== resourceType) throw new FilterError(`this topic filters ${resourceType} resources, not "${type.slice(0, 40)}"`);
    query = query.slice(q + 1);
  }
  if (!query) throw new FilterError('the filter is empty');
  return query.split('&').map((term) => {
    const eq = term.indexOf('=');
    const raw = eq > 0 ? term.slice(0, eq) : '';
    if (!raw) throw new FilterError(`"${term.slice(0, 80)}" is not name=value`);
    // The :identifier modifier on a reference and the chain to Patient.identifier are one search.
    const name = raw === 'patient:identifier' ? PATIENT_IDENTIFIER : raw;
    if (name !== PATIENT_IDENTIFIER && (name.includes(':') || name.includes('.'))) {
      throw new FilterError(`search modifiers and chains other than patient.identifier are not supported ("${name.slice(0, 40)}")`);
    }
    const p = params.find((x) => x.name === name);
    if (!p) throw new FilterError(`"${name.slice(0, 40)}" is not a filter of this topic; use ${params.map((x) => x.name).join(', ')}`);
    let values: string[];
    try {
      values = term
        .slice(eq + 1)
        .split(',')
        .map((v) => decodeURIComponent(v));
    } catch {
      throw new FilterError(`the value of ${name} is not valid percent-encoding`);
    }
    if (values.some((v) => v === '')) throw new FilterError(`${name} has an empty value`);
    for (const v of values) {
      if (p.kind === 'reference') checkReferenceValue(p, v);
      else if (p.kind === 'token') checkTokenValue(p, v);
      else checkPatientIdentifierValue(v);
    }
    return { name, values };
  });
}

function referenceMatches(value: string, reference: string | undefined): boolean {
  const ref = reference ? typeAndId(reference) : undefined;
  if (!ref) return false;
  const wanted = typeAndId(value);
  return wanted ? wanted.type === ref.type && wanted.id === ref.id : value === ref.id;
}

function tokenMatches(value: string, coding: { system?: string; code?: string }): boolean {
  const bar = value.indexOf('|');
  if (bar < 0) return coding.code === value;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === '') return !coding.system && coding.code === code;
  return coding.system === system && (code === '' || coding.code === code);
}

/** True when the resource satisfies every filter (each by any of its values); patient identifiers were matched by the index. */
export function matchesFilters(resource: TopicResource, filters: readonly Filter[], params: readonly FilterParameter[]): boolean {
  return filters.every((f) => {
    const p = params.find((x) => x.name === f.name);
    if (!p) return false;
    if (p.kind === 'patient-identifier') return true;
    if (p.kind === 'reference') {
      const refs = p.read(resource);
      return f.values.some((v) => refs.some((r) => referenceMatches(v, r)));
    }
    const codes = p.read(resource);
    return f.values.some((v) => codes.some((c) => tokenMatches(v, c)));
  });
}
