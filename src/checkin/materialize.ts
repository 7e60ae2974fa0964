import { randomUUID } from 'node:crypto';
import type { Bundle, Encounter, Extension, OperationOutcomeIssue, Patient, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { rewriteReferences } from '../fhir/references.js';
import type { VerifiedIdentity } from '../identity/types.js';
import { entriesOf, type ReceivedContent } from './received.js';

export const ASSURANCE_EXTENSION = 'http://ktc-gateway.example/fhir/StructureDefinition/identity-assurance';
export const SOURCE_VERIFIED_EXTENSION = 'http://ktc-gateway.example/fhir/StructureDefinition/source-verified';

export interface Materialized {
  patient: Patient & { id: string };
  /** Everything received except the Patient, with gateway ids and references rewritten. */
  others: (Resource & { id: string })[];
  encounter: Encounter & { id: string };
  provenance: Provenance & { id: string };
}

/**
 * Gives every received resource a gateway id (the Patient keeps the id already held for this
 * identity, so repeat visits update one Patient) and rewrites references between them, whatever
 * form the sender used: `resource:N` (cards), `urn:uuid:`, `Type/id` or absolute URLs.
 */
export function materialize(
  content: ReceivedContent,
  ctx: { identity: VerifiedIdentity; organization: string; clientId: string; existingPatientId: string | undefined; now: Date },
): Materialized {
  const entries = entriesOf(content);
  const ids = entries.map((e) => (e.resource.resourceType === 'Patient' && ctx.existingPatientId ? ctx.existingPatientId : randomUUID()));
  const lookup = entries.map((e, i) => {
    const target = `${e.resource.resourceType}/${ids[i]}`;
    const keys = new Set<string>();
    if (e.fullUrl) keys.add(e.fullUrl);
    if (e.resource.id) keys.add(`${e.resource.resourceType}/${e.resource.id}`);
    return { bundleIndex: e.bundleIndex, keys, target };
  });
  const resolve = (bundleIndex: number) => (ref: string) => {
    for (const l of lookup) {
      if (l.bundleIndex !== bundleIndex) continue;
      for (const k of l.keys) if (ref === k || ref.endsWith(`/${k}`)) return l.target;
    }
    return undefined;
  };
  const rewritten = entries.map((e, i) => {
    const { meta, ...rest } = e.resource;
    const kept = { ...rewriteReferences(rest as Resource, resolve(e.bundleIndex)), id: ids[i] as string } as Resource & { id: string };
    // The sender's version and timestamps are not ours; the profiles it claims are, for the EHR that reads it.
    const profile = meta?.profile?.filter((p) => typeof p === 'string');
    return profile?.length ? { ...kept, meta: { profile } } : kept;
  });
  const patient = rewritten.find((r): r is Patient & { id: string } => r.resourceType === 'Patient');
  if (!patient) throw new Error('validated content has a Patient');
  const others = rewritten.filter((r) => r !== patient);
  const subject: Reference<Patient> = { reference: `Patient/${patient.id}` };

  const encounter: Encounter & { id: string } = {
    resourceType: 'Encounter',
    id: randomUUID(),
    status: 'arrived',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject,
    serviceProvider: { display: ctx.organization },
    period: { start: ctx.now.toISOString() },
    statusHistory: [{ status: 'arrived', period: { start: ctx.now.toISOString() } }],
  };

  const provenance: Provenance & { id: string } = {
    resourceType: 'Provenance',
    id: randomUUID(),
    target: [patient, ...others, encounter].map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
    recorded: ctx.now.toISOString(),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }], text: 'patient check-in' },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'informant' }] },
        who: {
          identifier: { system: ctx.identity.issuer, value: ctx.identity.subject },
          display: ctx.identity.evidence.credential ? `patient (verified by ${ctx.identity.evidence.credential})` : 'patient (verified identity)',
        },
        extension: [assuranceExtension(ctx.identity)],
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'enterer' }] },
        who: { identifier: { system: 'urn:ktc-gateway:client', value: ctx.clientId }, display: ctx.organization },
      },
    ],
    entity: [
      {
        role: 'source',
        what: {
          display: `${content.method}${content.source ? ` from ${content.source}` : ''}`,
          ...(content.source ? { identifier: { system: 'urn:ietf:rfc:3986', value: content.source } } : {}),
        },
        extension: [{ url: SOURCE_VERIFIED_EXTENSION, valueBoolean: content.verified }],
      },
    ],
  };
  return { patient, others, encounter, provenance };
}

function assuranceExtension(identity: VerifiedIdentity): Extension {
  const e = identity.evidence;
  const parts: Extension[] = [
    { url: 'ial', valueInteger: identity.ial },
    { url: 'aal', valueInteger: identity.aal },
    ...(e.acr ? [{ url: 'acr', valueString: e.acr }] : []),
    ...(e.amr ?? []).map((m) => ({ url: 'amr', valueString: m })),
    ...(e.trustFramework ? [{ url: 'trustFramework', valueString: e.trustFramework }] : []),
    ...(e.assuranceLevel ? [{ url: 'assuranceLevel', valueString: e.assuranceLevel }] : []),
    ...(e.verificationTime ? [{ url: 'verificationTime', valueDateTime: e.verificationTime }] : []),
    ...(e.credential ? [{ url: 'credential', valueString: e.credential }] : []),
    ...(e.issuingAuthority ? [{ url: 'issuingAuthority', valueString: e.issuingAuthority }] : []),
  ];
  return { url: ASSURANCE_EXTENSION, extension: parts };
}

/**
 * The check-in as returned to kiosk, EHR and patient: a collection Bundle with RESTful fullUrls,
 * and, when validation had warnings (unknown claimed profiles, entries not stored), an
 * OperationOutcome entry last that lists them, so nothing is passed over silently.
 */
export function checkinBundle(id: string, m: Materialized, publicBaseUrl: string, now: Date, warnings: OperationOutcomeIssue[] = []): Bundle {
  const all: Resource[] = [m.patient, ...m.others, m.encounter, m.provenance];
  const entry: Bundle['entry'] = all.map((r) => ({ fullUrl: `${publicBaseUrl}/fhir/${r.resourceType}/${r.id}`, resource: r }));
  if (warnings.length) entry.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'OperationOutcome', issue: warnings } });
  return { resourceType: 'Bundle', id, type: 'collection', timestamp: now.toISOString(), entry };
}
