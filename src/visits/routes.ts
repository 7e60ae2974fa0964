import type { Response } from 'express';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { getCheckin } from '../checkin/checkin-store.js';
import { notFound } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireClientOrPatient, requireOwner, requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { parseVisitRequest } from './visit-request.js';
import { createVisitSummary, type VisitDeps } from './visit-service.js';
import { getVisit, type VisitRecord } from './visit-store.js';

const UUID = /^[0-9a-f-]{36}$/;

export function visitRoutes(s: Services, deps: VisitDeps): Router {
  const r = Router();

  r.post('/checkin/:id/visit-summary', s.admit.write, requireScope(s.auth, 'system/visit.write'), async (req, res) => {
    const client = clientOf(res);
    const id = String(req.params.id);
    const checkin = UUID.test(id) ? await getCheckin(s.db, id) : undefined;
    // Another organization's check-in is indistinguishable from none.
    if (!checkin || checkin.organization !== client.organization) throw notFound('No such check-in');
    const request = parseVisitRequest(req.body, req.query as Record<string, unknown>);
    const result = await createVisitSummary(deps, { checkin, client, request, audit: requestAudit(req, res) });
    res.setHeader('Location', `${s.config.publicBaseUrl}/visits/${result.visitId}`);
    res.status(201).json(result);
  });

  /** The EHR of the visit's organization, or the patient it is about; anyone else gets 404. */
  const readable = async (id: string, res: Response): Promise<VisitRecord> => requireOwner(res, UUID.test(id) ? await getVisit(s.db, id) : undefined, 'visit');

  r.get('/visits/:id', requireClientOrPatient(s.auth, 'system/visit.read'), async (req, res) => {
    const visit = await readable(String(req.params.id), res);
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'visit.read', organization: visit.organization, entity: { type: 'Bundle', id: visit.id } });
    sendFhir(res, 200, visit.bundle);
  });

  /** The summary as a `.smart-health-card` file, for summaries too large for one QR. */
  r.get('/visits/:id/health-card', requireClientOrPatient(s.auth, 'system/visit.read'), async (req, res) => {
    const visit = await readable(String(req.params.id), res);
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'visit.health-card', organization: visit.organization, entity: { type: 'Bundle', id: visit.id } });
    res
      .status(200)
      .type('application/smart-health-card')
      .setHeader('Content-Disposition', `attachment; filename="visit-${visit.id}.smart-health-card"`)
      .send(JSON.stringify({ verifiableCredential: [visit.healthCard] }));
  });

  return r;
}
