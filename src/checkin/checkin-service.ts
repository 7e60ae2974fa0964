import { randomUUID } from 'node:crypto';
import type { Bundle, Encounter, Patient } from '@medplum/fhirtypes';
import type { AuditEntry, AuditService } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db, Queryable } from '../db/db.js';
import { HttpError, businessRule, outcome } from '../fhir/outcome.js';
import { findPatientId, insertNewResources, putResource } from '../fhir/resource-store.js';
import type { FhirValidator } from '../fhir/validator.js';
import { matchPatientToIdentity } from '../identity/demographic-match.js';
import type { VerifiedIdentity } from '../identity/types.js';
import { insertCheckin } from './checkin-store.js';
import { checkinBundle, materialize } from './materialize.js';
import { entriesOf, type ReceivedContent } from './received.js';
import { claimSession, completeSession } from './sessions.js';
import { validateCheckin, withoutDropped } from './validate.js';

/** Called inside the check-in transaction so the encounter-start event commits with the data. */
export type EncounterStartHook = (tx: Queryable, e: { organization: string; encounter: Encounter; occurredAt: Date }) => Promise<void>;

export interface CheckinDeps {
  db: Db;
  fhir: FhirValidator;
  audit: AuditService;
  clock: Clock;
  publicBaseUrl: string;
  onEncounterStart: EncounterStartHook;
}

export interface CheckinRequest {
  identity: VerifiedIdentity;
  content: ReceivedContent;
  organization: string;
  clientId: string;
  /** Set for wallet-scans-kiosk submissions: completed in the same transaction. */
  sessionId?: string;
  audit: Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'>;
}

/**
 * validate → bind to the verified identity → store resources, Encounter, Provenance, check-in,
 * session, audit and the encounter-start event in one transaction. Nothing is stored unless all
 * of it is.
 */
export async function completeCheckin(d: CheckinDeps, req: CheckinRequest): Promise<{ id: string; bundle: Bundle }> {
  const checked = validateCheckin(req.content, d.fhir);
  if (checked.errors.length) throw new HttpError(422, outcome(checked.errors));
  const content = withoutDropped(req.content, checked.dropped);
  const patient = entriesOf(content).find((e) => e.resource.resourceType === 'Patient')?.resource as Patient;
  const match = matchPatientToIdentity(patient, req.identity);
  if (!match.ok) {
    await d.audit.record({ ...req.audit, action: 'C', subtype: 'checkin.create', outcome: '4', organization: req.organization, detail: { reason: 'identity-mismatch' } });
    throw businessRule(`The Patient does not match the verified identity: ${match.reason}`, ['Patient']);
  }
  const now = new Date(d.clock.now());
  const id = randomUUID();
  const owner = { organization: req.organization, patientIssuer: req.identity.issuer, patientSubject: req.identity.subject };
  const bundle = await d.db.transaction(async (tx) => {
    if (req.sessionId) await claimSession(tx, req.sessionId, now.getTime());
    const existingPatientId = await findPatientId(tx, req.organization, req.identity.issuer, req.identity.subject);
    const m = materialize(content, { identity: req.identity, organization: req.organization, clientId: req.clientId, existingPatientId, now });
    const patient = await putResource(tx, m.patient, owner, now);
    const [encounter, provenance, ...others] = await insertNewResources(tx, [m.encounter, m.provenance, ...m.others], owner, now);
    const stored = { patient, others, encounter: encounter as typeof m.encounter, provenance: provenance as typeof m.provenance };
    const result = checkinBundle(id, stored, d.publicBaseUrl, now, checked.warnings);
    await insertCheckin(tx, {
      id,
      organization: req.organization,
      clientId: req.clientId,
      patientIssuer: req.identity.issuer,
      patientSubject: req.identity.subject,
      patientId: m.patient.id,
      method: req.content.method,
      source: req.content.source,
      sourceVerified: req.content.verified,
      bundle: result,
      createdAt: now,
    });
    if (req.sessionId) await completeSession(tx, req.sessionId, id);
    await d.onEncounterStart(tx, { organization: req.organization, encounter: stored.encounter, occurredAt: now });
    await d.audit.record(
      {
        ...req.audit,
        action: 'C',
        subtype: 'checkin.create',
        organization: req.organization,
        entity: { type: 'Bundle', id },
        detail: { method: req.content.method, sourceVerified: req.content.verified, ial: req.identity.ial, aal: req.identity.aal, resources: result.entry?.length ?? 0 },
      },
      tx,
    );
    return result;
  });
  return { id, bundle };
}
