import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { FHIR_VERSION } from './version.js';

/** What one capability module adds to the CapabilityStatement: the resources and operations it serves. */
export interface CapabilityContribution {
  resources?: CapabilityStatementRestResource[];
  instantiates?: string[];
}

export const GATEWAY_VERSION = '0.1.0';

/**
 * Built at start-up from the contributions of the modules actually mounted, so it cannot drift
 * from the routes. Resources contributed twice (e.g. two modules serving operations on one type)
 * are merged.
 */
export function buildCapabilityStatement(publicBaseUrl: string, contributions: CapabilityContribution[], startedAt: Date): CapabilityStatement {
  const byType = new Map<string, CapabilityStatementRestResource>();
  for (const c of contributions) {
    for (const r of c.resources ?? []) {
      const prev = byType.get(r.type);
      byType.set(
        r.type,
        prev
          ? {
              ...prev,
              ...r,
              interaction: [...(prev.interaction ?? []), ...(r.interaction ?? [])],
              operation: [...(prev.operation ?? []), ...(r.operation ?? [])],
              extension: [...(prev.extension ?? []), ...(r.extension ?? [])],
              supportedProfile: [...(prev.supportedProfile ?? []), ...(r.supportedProfile ?? [])],
              searchParam: [...(prev.searchParam ?? []), ...(r.searchParam ?? [])],
            }
          : r,
      );
    }
  }
  const resources = [...byType.values()]
    .sort((a, b) => a.type.localeCompare(b.type))
    .map(dropEmptyArrays);
  const instantiates = [...new Set(contributions.flatMap((c) => c.instantiates ?? []))];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt.toISOString(),
    publisher: 'ktc-gateway',
    kind: 'instance',
    ...(instantiates.length ? { instantiates } : {}),
    software: { name: 'ktc-gateway', version: GATEWAY_VERSION },
    implementation: { description: 'Kill the Clipboard interoperability gateway', url: `${publicBaseUrl}/fhir` },
    fhirVersion: FHIR_VERSION,
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
              text: 'SMART Backend Services (client_credentials, private_key_jwt) for clients; IAL2/AAL2 OIDC identity tokens for patients',
            },
          ],
        },
        resource: resources,
      },
    ],
  };
}

function dropEmptyArrays(r: CapabilityStatementRestResource): CapabilityStatementRestResource {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!(Array.isArray(v) && v.length === 0)) out[k] = v;
  return out as unknown as CapabilityStatementRestResource;
}
