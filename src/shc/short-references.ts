import type { BundleEntry } from '@medplum/fhirtypes';

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})$/;
// A RESTful fullUrl: <service base>/<Type>/<id>
const RESTFUL = /^(https?:\/\/.+)\/[A-Z][A-Za-z]+\/[A-Za-z0-9.-]{1,64}$/;
const HISTORY = /\/_history\/[A-Za-z0-9.-]{1,64}$/;

/**
 * Maps the references of a Bundle's entries to `resource:N`, N being the entry's position, by
 * FHIR's rules for resolving references inside a Bundle (R4 Bundle §"Resolving references"):
 * an absolute reference (URL, `urn:uuid:`, `urn:oid:`) matches an entry's fullUrl; a relative
 * `Type/id` is resolved against the referring entry's fullUrl when that is a RESTful URL, and
 * otherwise (a `urn:uuid:` fullUrl, or none) matches the one entry whose resource has that type and id. Version suffixes
 * (`/_history/n`) are ignored. Returns undefined for a reference to nothing in the Bundle
 * (contained `#id`, or an outside resource), which is then kept as it is.
 */
export function shortReferenceResolver(entries: readonly BundleEntry[]): (reference: string, fromFullUrl: string | undefined) => string | undefined {
  const byFullUrl = new Map<string, string>();
  const byTypeAndId = new Map<string, string | null>();
  entries.forEach((e, n) => {
    const short = `resource:${n}`;
    if (e.fullUrl && !byFullUrl.has(e.fullUrl)) byFullUrl.set(e.fullUrl, short);
    const r = e.resource;
    if (r?.id) {
      const key = `${r.resourceType}/${r.id}`;
      // Two entries with the same type and id (from different servers) make the bare form ambiguous.
      byTypeAndId.set(key, byTypeAndId.has(key) ? null : short);
    }
  });
  return (reference, fromFullUrl) => {
    const ref = reference.replace(HISTORY, '');
    if (ABSOLUTE.test(ref)) return byFullUrl.get(ref);
    if (!RELATIVE.test(ref)) return undefined;
    const base = fromFullUrl ? RESTFUL.exec(fromFullUrl)?.[1] : undefined;
    if (base) return byFullUrl.get(`${base}/${ref}`);
    return byTypeAndId.get(ref) ?? undefined;
  };
}
