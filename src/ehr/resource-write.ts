import { randomUUID } from 'node:crypto';
import type { Appointment, Encounter } from '@medplum/fhirtypes';
import type { AuditEntry } from '../audit/audit.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import { getResource, putResource } from '../fhir/resource-store.js';
import type { Queryable } from '../db/db.js';
import type { Services } from '../services.js';

/** The resources the EHR writes: the ones whose changes fire notification topics. */
export type EhrResource = Encounter | Appointment;
export type EhrResourceType = EhrResource['resourceType'];

/**
 * The notifier's hook, called in the write's transaction so the events commit with the change
 * (as check-in's onEncounterStart), and once it committed.
 */
export interface ChangeHook {
  recordChange(tx: Queryable, change: { organization: string; resource: EhrResource & { id: string }; previous: EhrResource | undefined; occurredAt: Date }): Promise<number>;
  committed(events: number): void;
}

/** The body of a create or update: a valid resource of the route's type (validated in the worker pool). */
export async function checkBody(s: Pick<Services, 'cpu' | 'config'>, type: EhrResourceType, body: unknown): Promise<EhrResource> {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== type) {
    throw badRequest(`The body must be a FHIR ${type} resource`);
  }
  await s.cpu.run('fhir.validate', { resource: body as EhrResource, budgetMs: s.config.limits.validationBudgetMs });
  return body as EhrResource;
}

/**
 * Stores an Encounter or Appointment from the EHR and records the notification events it causes,
 * in one transaction. `id` undefined creates (server-assigned id); otherwise updates the
 * organization's existing resource (404 when it has none by that id, whoever else might).
 */
export async function writeEhrResource(
  s: Pick<Services, 'db' | 'clock' | 'audit'>,
  hook: ChangeHook,
  w: { organization: string; resource: EhrResource; id: string | undefined; audit: Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'> },
): Promise<{ resource: EhrResource & { id: string }; created: boolean }> {
  const type = w.resource.resourceType;
  const id = w.id ?? randomUUID();
  const now = new Date(s.clock.now());
  const result = await s.db.transaction(async (tx) => {
    let previous: EhrResource | undefined;
    if (w.id !== undefined) {
      // Two updates of one resource take turns, so each sees the other's result as its previous state.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fhir_resource:${type}/${id}`]);
      previous = await getResource<EhrResource>(tx, type, id, w.organization);
      if (!previous) throw notFound(`No ${type}/${id} here; create it with POST /fhir/${type}`);
    }
    const stored = await putResource(tx, { ...w.resource, id }, { organization: w.organization }, now);
    const events = await hook.recordChange(tx, { organization: w.organization, resource: stored, previous, occurredAt: now });
    await s.audit.record(
      {
        ...w.audit,
        action: previous ? 'U' : 'C',
        subtype: `${type.toLowerCase()}.${previous ? 'update' : 'create'}`,
        organization: w.organization,
        entity: { type, id },
        detail: { events },
      },
      tx,
    );
    return { resource: stored, created: !previous, events };
  });
  hook.committed(result.events);
  return { resource: result.resource, created: result.created };
}
