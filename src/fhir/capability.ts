import type { CapabilityStatement, CapabilityStatementRestResource, CodeableConcept } from '@medplum/fhirtypes';
import type { FhirRoute } from './route-table.js';
import { FHIR_VERSION } from './version.js';

/**
 * What one capability module adds to the CapabilityStatement about the resources it serves:
 * documentation, search parameters, operation definitions, profiles. Which interactions and
 * operations are served is not said here but read from the mounted routes (route-table.ts).
 */
export interface CapabilityContribution {
  resources?: Omit<CapabilityStatementRestResource, 'interaction'>[];
  instantiates?: string[];
  /** Ways of authenticating it adds (rest.security.service). */
  securityServices?: CodeableConcept[];
}

export const GATEWAY_VERSION = '0.1.0';

/** The interactions each served type has, from the routes, in the order FHIR lists them. */
const INTERACTION_ORDER = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];

function servedResources(routes: FhirRoute[]): CapabilityStatementRestResource[] {
  const byType = new Map<string, CapabilityStatementRestResource>();
  for (const r of routes) {
    const resource: CapabilityStatementRestResource = byType.get(r.type) ?? { type: r.type as CapabilityStatementRestResource['type'], interaction: [], operation: [] };
    if (r.interaction) resource.interaction!.push({ code: r.interaction });
    if (r.operation) resource.operation!.push({ name: `$${r.operation}`, definition: '' });
    byType.set(r.type, resource);
  }
  for (const r of byType.values()) r.interaction!.sort((a, b) => INTERACTION_ORDER.indexOf(a.code) - INTERACTION_ORDER.indexOf(b.code));
  return [...byType.values()];
}

/**
 * Built at start-up from the routes actually mounted (which interactions and operations each
 * type has) and the contributions of their modules (what they are), so it cannot drift from the
 * routes. An operation is listed only with the definition a contribution gives it; one served
 * without, or contributed but not served, is left out (test/fhir/capability.test.ts catches both).
 */
export function buildCapabilityStatement(publicBaseUrl: string, contributions: CapabilityContribution[], routes: FhirRoute[], startedAt: Date): CapabilityStatement {
  const byType = new Map<string, CapabilityStatementRestResource>();
  const all: CapabilityStatementRestResource[] = [...servedResources(routes), ...contributions.flatMap((c) => c.resources ?? [])];
  {
    for (const r of all) {
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
              ...(prev.documentation && r.documentation ? { documentation: `${prev.documentation} ${r.documentation}` } : {}),
            }
          : r,
      );
    }
  }
  const resources = [...byType.values()]
    .sort((a, b) => a.type.localeCompare(b.type))
    .map(withDefinedOperations)
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
            ...contributions.flatMap((c) => c.securityServices ?? []),
          ],
        },
        resource: resources,
      },
    ],
  };
}

/** Each served operation with its contributed definition; served-only or contributed-only ones are dropped. */
function withDefinedOperations(r: CapabilityStatementRestResource): CapabilityStatementRestResource {
  const served = new Set((r.operation ?? []).filter((o) => !o.definition).map((o) => o.name));
  const defined = (r.operation ?? []).filter((o) => o.definition && served.has(o.name));
  return { ...r, operation: defined };
}

function dropEmptyArrays(r: CapabilityStatementRestResource): CapabilityStatementRestResource {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!(Array.isArray(v) && v.length === 0)) out[k] = v;
  return out as unknown as CapabilityStatementRestResource;
}
