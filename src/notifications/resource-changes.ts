import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/audit.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import { getResource, putResource } from '../fhir/resource-store.js';
import type { Services } from '../services.js';
import type { TopicResource } from './filters.js';
import { recordResourceChange } from './outbox.js';
import { wakeUp } from './wakeup.js';

export type TopicResourceType = TopicResource['resourceType'];

const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}

/** The body of a create or update: a valid resource of the route's type (validated in the worker pool). */
export async function checkBody(s: Pick<Services, 'cpu' | 'config'>, type: TopicResourceType, body: unknown): Promise<TopicResource> {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== type) {
    throw badRequest(`The body must be a FHIR ${type} resource`);
  }
  await s.cpu.run('fhir.validate', { resource: body as TopicResource, budgetMs: s.config.limits.validationBudgetMs });
  return body as TopicResource;
}

/**
 * Stores an Encounter or Appointment from the EHR and records the notification events it causes,
 * in one transaction. `id` undefined creates (server-assigned id); otherwise updates the
 * organization's existing resource (404 when it has none by that id, whoever else might).
 */
export async function writeTopicResource(
  s: Pick<Services, 'db' | 'clock' | 'audit'>,
  w: { organization: string; resource: TopicResource; id: string | undefined; audit: Pick<AuditEntry, 'actor' | 'sourceIp' | 'requestId'> },
): Promise<{ resource: TopicResource & { id: string }; created: boolean }> {
  const type = w.resource.resourceType;
  const id = w.id ?? randomUUID();
  const now = new Date(s.clock.now());
  const result = await s.db.transaction(async (tx) => {
    let previous: TopicResource | undefined;
    if (w.id !== undefined) {
      // Two updates of one resource take turns, so each sees the other's result as its previous state.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fhir_resource:${type}/${id}`]);
      previous = await getResource<TopicResource>(tx, type, id, w.organization);
      if (!previous) throw notFound(`No ${type}/${id} here; create it with POST /fhir/${type}`);
    }
    const stored = await putResource(tx, { ...w.resource, id }, { organization: w.organization }, now);
    const events = await recordResourceChange(tx, { organization: w.organization, resource: stored, previous, occurredAt: now });
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
  if (result.events > 0) wakeUp(s.db);
  return { resource: result.resource, created: result.created };
}
