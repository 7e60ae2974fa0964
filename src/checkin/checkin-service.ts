import { randomUUID } from 'node:crypto';
import type { Encounter, Patient } from '@medplum/fhirtypes';
import type { AuditEntry, AuditService } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db, Queryable } from '../db/db.js';
import type { CpuPool } from '../cpu/pool.js';
import { businessRule, unprocessable } from '../fhir/outcome.js';
import { findPatientId, putResourceWithNew } from '../fhir/resource-store.js';
import { matchPatientToIdentity } from '../identity/demographic-match.js';
import type { VerifiedIdentity } from '../identity/types.js';
import { assertEntryCount, entryCount } from '../limits/bounds.js';
import { insertCheckin } from './checkin-store.js';
import { checkinBundle, materialize } from './materialize.js';
import { entriesOf, type ReceivedContent } from './received.js';
import { claimSession, completeSession } from './sessions.js';
import { withoutDropped } from './validate.js';

/** Called inside the check-in transaction so the encounter-start event commits with the data. */
export type EncounterStartHook = (
  tx: Queryable,
  e: { organization: string; encounter: Encounter; occurredAt: Date; patient?: { resource: Patient & { id: string }; issuer: string; subject: string } },
) => Promise<void>;

export interface CheckinDeps {
  db: Db;
  /** Validation runs there (src/cpu/tasks.ts 'checkin.validate'), off the event loop. */
  cpu: CpuPool;
  limits: { maxEntries: number; validationBudgetMs: number };
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
 * The one Patient, after the checks that cost nothing: entry count within the cap, exactly one
 * Patient. Full validation comes later, and only for content that is the token holder's.
 */
function thePatient(content: ReceivedContent, maxEntries: number): Patient {
  const bundles = content.bundles.map((b) => b.bundle);
  assertEntryCount(entryCount(bundles), maxEntries);
  const entries = bundles.flatMap((b) => (b.entry === undefined ? [] : b.entry));
  if (bundles.some((b) => b.entry !== undefined && !Array.isArray(b.entry)) || entries.some((e) => typeof e !== 'object' || e === null)) {
    throw unprocessable('Bundle.entry must be a list of entries', ['Bundle.entry']);
  }
  const patients = entriesOf(content).filter((e) => e.resource?.resourceType === 'Patient');
  if (patients.length !== 1) throw businessRule(`A check-in needs exactly one Patient; found ${patients.length}`, ['Bundle.entry']);
  return patients[0]!.resource as Patient;
}

/** A Patient too malformed to compare (e.g. `name` not a list) matches no one. */
function matchOf(patient: Patient, identity: VerifiedIdentity): ReturnType<typeof matchPatientToIdentity> {
  try {
    return matchPatientToIdentity(patient, identity);
  } catch {
    return { ok: false, reason: 'the Patient is not well-formed' };
  }
}

/**
 * Cheap structural checks → bind to the verified identity → full validation (worker pool) →
 * store resources, Encounter, Provenance, check-in, session, audit and the encounter-start event
 * in one transaction. A payload that is not the token holder's is refused before anything
 * expensive runs; nothing is stored unless all of it is.
 */
export async function completeCheckin(d: CheckinDeps, req: CheckinRequest): Promise<{ id: string; bundleJson: string }> {
  const match = matchOf(thePatient(req.content, d.limits.maxEntries), req.identity);
  if (!match.ok) {
    await d.audit.record({ ...req.audit, action: 'C', subtype: 'checkin.create', outcome: '4', organization: req.organization, detail: { reason: 'identity-mismatch' } });
    throw businessRule(`The Patient does not match the verified identity: ${match.reason}`, ['Patient']);
  }
  const checked = await d.cpu.run('checkin.validate', { content: req.content, budgetMs: d.limits.validationBudgetMs });
  const content = withoutDropped(req.content, checked.dropped);
  const now = new Date(d.clock.now());
  const id = randomUUID();
  const owner = { organization: req.organization, patientIssuer: req.identity.issuer, patientSubject: req.identity.subject };
  const bundleJson = await d.db.transaction(async (tx) => {
    if (req.sessionId) await claimSession(tx, req.sessionId, now.getTime());
    const existingPatientId = await findPatientId(tx, req.organization, req.identity.issuer, req.identity.subject);
    const m = materialize(content, { identity: req.identity, organization: req.organization, clientId: req.clientId, existingPatientId, now });
    const { resource: patient, fresh } = await putResourceWithNew(tx, m.patient, [m.encounter, m.provenance, ...m.others], owner, now);
    const [encounter, provenance, ...others] = fresh;
    const stored = { patient, others, encounter: encounter as typeof m.encounter, provenance: provenance as typeof m.provenance };
    const result = checkinBundle(id, stored, d.publicBaseUrl, now, checked.warnings);
    const json = JSON.stringify(result);
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
      bundleJson: json,
      createdAt: now,
    });
    if (req.sessionId) await completeSession(tx, req.sessionId, id);
    await d.onEncounterStart(tx, {
      organization: req.organization,
      encounter: stored.encounter,
      occurredAt: now,
      patient: { resource: stored.patient, issuer: req.identity.issuer, subject: req.identity.subject },
    });
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
    return json;
  });
  return { id, bundleJson };
}
