import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * A search answer: each match at its absolute URL `${base}/fhir/${type}/${id}`. Takes any
 * resource-shaped match: the R4B SubscriptionTopic the gateway serves has no R4 type.
 */
export function searchset(base: string, type: string, matches: readonly { resourceType: string; id?: string }[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matches.length,
    entry: matches.map((m) => ({ fullUrl: `${base}/fhir/${type}/${m.id}`, resource: m as Resource, search: { mode: 'match' } })),
  };
}
