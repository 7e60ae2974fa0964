import type { Patient } from '@medplum/fhirtypes';
import { Router, type Request, type Response } from 'express';
import { requestAudit } from '../audit/audit.js';
import { isFhirId } from '../fhir/ids.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import { findResourceWithOwner, getResource } from '../fhir/resource-store.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireScope } from '../http/guards.js';
import { disclosedPatient } from '../notifications/event-subject.js';
import type { RetrievableResource, RetrieveGrants } from '../notifications/retrieve-grant.js';
import type { Services } from '../services.js';
import { checkBody, writeEhrResource, type ChangeHook, type EhrResourceType } from './resource-write.js';

export interface EhrHooks {
  /** The notifier: records the events a write causes, in its transaction. */
  changes: ChangeHook;
  /** RetrieveResource for clients of other organizations. */
  retrieve: RetrieveGrants;
}

const EHR_TYPES = ['Encounter', 'Appointment'] as const satisfies readonly EhrResourceType[];
type ReadableType = EhrResourceType | 'Patient';

/**
 * The EHR's Encounter and Appointment API (create, update, read), and reads of the notified
 * resources (Encounter, Appointment, Patient) by aligned networks of other organizations.
 */
export function ehrRoutes(s: Services, hooks: EhrHooks): Router {
  const r = Router();
  const base = s.config.publicBaseUrl;

  for (const type of EHR_TYPES) {
    const write = requireScope(s.auth, `system/${type}.write`);
    r.post(`/fhir/${type}`, write, async (req, res) => {
      const resource = await checkBody(s, type, req.body);
      const { resource: stored } = await writeEhrResource(s, hooks.changes, { organization: clientOf(res).organization, resource, id: undefined, audit: requestAudit(req, res) });
      // No vread is served, so the Location is the resource's read URL, not a _history one.
      res.setHeader('Location', `${base}/fhir/${type}/${stored.id}`);
      sendFhir(res, 201, stored);
    });
    r.put(`/fhir/${type}/:id`, write, async (req, res) => {
      const id = String(req.params.id);
      if (!isFhirId(id)) throw notFound(`No such ${type}`);
      const resource = await checkBody(s, type, req.body);
      if (resource.id !== id) throw badRequest(`The ${type} in the body must have id ${id}, as in the URL`, [`${type}.id`]);
      const { resource: stored } = await writeEhrResource(s, hooks.changes, { organization: clientOf(res).organization, resource, id, audit: requestAudit(req, res) });
      sendFhir(res, 200, stored);
    });
  }

  for (const type of [...EHR_TYPES, 'Patient'] as const satisfies readonly ReadableType[]) {
    r.get(`/fhir/${type}/:id`, requireScope(s.auth, `system/${type}.read`), (req, res) => read(s, hooks, type, req, res));
  }
  return r;
}

/**
 * The organization's own resource; else, for a network whose subscription's grant covers the
 * patient, the resource as disclosed (audited in the source's trail). Anything else is 404, the
 * same as an unknown id.
 */
async function read(s: Services, hooks: EhrHooks, type: ReadableType, req: Request, res: Response): Promise<void> {
  const id = String(req.params.id);
  const client = clientOf(res);
  const missing = () => notFound(`No such ${type}`);
  if (!isFhirId(id)) throw missing();
  const own = await getResource<RetrievableResource>(s.db, type, id, client.organization);
  if (own) {
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: `${type.toLowerCase()}.read`, organization: client.organization, entity: { type, id } });
    sendFhir(res, 200, own);
    return;
  }
  if (!client.purposes?.length) throw missing();
  const found = await findResourceWithOwner<RetrievableResource>(s.db, type, id);
  const grant = found ? await hooks.retrieve(s.db, client, found) : undefined;
  if (!found || !grant) throw missing();
  const { patient } = grant;
  await s.audit.record({
    ...requestAudit(req, res),
    action: 'R',
    subtype: 'disclosure.read',
    organization: found.owner.organization,
    entity: { type, id },
    ...(patient.issuer && patient.subject ? { patient: { issuer: patient.issuer, subject: patient.subject } } : {}),
    disclosure: { recipientOrganization: client.organization, clientId: client.clientId, purpose: grant.purpose, patient: `Patient/${patient.id}` },
  });
  sendFhir(res, 200, type === 'Patient' ? disclosedPatient(patient) : (found.resource as Exclude<RetrievableResource, Patient>));
}
