import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { rewriteReferences } from '../fhir/references.js';
import { shortReferenceResolver } from './short-references.js';

type Json = unknown;

// R4 has `coding` only on CodeableConcept, so an object with a coding array is one.
function isCodeableConcept(o: Record<string, Json>): boolean {
  return Array.isArray(o.coding) && o.coding.length > 0;
}

const CODING_KEYS = new Set(['id', 'extension', 'system', 'version', 'code', 'display', 'userSelected']);
// Coding-typed elements outside `coding` arrays (Encounter.class, valueCoding, Meta.tag...) have
// no common name; no other R4 data type has both system and code and only Coding's members.
function isCoding(o: Record<string, Json>): boolean {
  return typeof o.system === 'string' && typeof o.code === 'string' && Object.keys(o).every((k) => CODING_KEYS.has(k));
}

/** Drops CodeableConcept.text (when codings carry the meaning) and Coding.display, at any depth. */
function stripDataTypeText(value: Json, inCodingArray = false): Json {
  if (Array.isArray(value)) return value.map((v) => stripDataTypeText(v, inCodingArray));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, Json>;
  const dropText = isCodeableConcept(o);
  const dropDisplay = inCodingArray || isCoding(o);
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(o)) {
    if ((dropText && k === 'text') || (dropDisplay && k === 'display')) continue;
    // Contained resources are minified like entries, except that they keep the id `#id` refers to.
    out[k] = k === 'contained' && Array.isArray(v) ? v.map((r) => minifyResource(r as Resource, true)) : stripDataTypeText(v, k === 'coding');
  }
  return out;
}

/** No Resource.id (kept on contained resources), meta only as meta.security, no narrative. */
function minifyResource(resource: Resource, keepId = false): Resource {
  const { id, meta, text: _narrative, ...rest } = resource as Resource & { text?: unknown };
  const out = stripDataTypeText(rest) as Record<string, Json>;
  return {
    resourceType: resource.resourceType,
    ...(keepId && id ? { id } : {}),
    ...(meta?.security?.length ? { meta: { security: stripDataTypeText(meta.security, true) } } : {}),
    ...out,
  } as Resource;
}

/**
 * A Bundle minified for a SMART Health Card (spec §"Health Cards are Compact"): entries without a
 * resource dropped, each entry reduced to fullUrl `resource:N` and its minified resource, and
 * references between entries rewritten to `resource:N`.
 */
export function minifyBundle(bundle: Bundle): Bundle {
  const entries = (bundle.entry ?? []).filter((e): e is BundleEntry & { resource: Resource } => e.resource !== undefined);
  const resolve = shortReferenceResolver(entries);
  const { id: _id, meta, entry: _entry, ...rest } = bundle;
  return {
    ...(stripDataTypeText(rest) as Bundle),
    resourceType: 'Bundle',
    ...(meta?.security?.length ? { meta: { security: stripDataTypeText(meta.security, true) } } : {}),
    entry: entries.map((e, n) => ({
      fullUrl: `resource:${n}`,
      resource: minifyResource(rewriteReferences(e.resource, (ref) => resolve(ref, e.fullUrl))),
    })),
  } as Bundle;
}
