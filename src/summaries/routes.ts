import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { sendFhir } from '../http/body.js';
import { requireClientOrPatient, requireOwner } from '../http/guards.js';
import type { Services } from '../services.js';
import { getVisit } from '../visits/visit-store.js';
import { checkedSummaryComposition } from './fhir-form.js';
import { plainLanguageSummary, type SummaryDeps } from './summary-service.js';
import { parseSummaryRequest } from './summary-request.js';

const VISIT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * POST /visits/{id}/$plain-language-summary: the patient the visit belongs to, or a client of the
 * visit's organization with system/visit.read. Anyone else learns nothing, not even that the
 * visit exists (404).
 */
export function summaryRoutes(s: Pick<Services, 'auth' | 'db' | 'fhir'>, deps: SummaryDeps): Router {
  const r = Router();
  r.post('/visits/:id/$plain-language-summary', requireClientOrPatient(s.auth, 'system/visit.read'), async (req, res) => {
    const id = String(req.params.id);
    const visit = requireOwner(res, VISIT_ID.test(id) ? await getVisit(s.db, id) : undefined, 'visit');
    const options = parseSummaryRequest(req.body);
    const answer = await plainLanguageSummary(deps, { visit, ...options, audit: requestAudit(req, res) });

    res.setHeader('Cache-Control', 'no-store');
    if (req.accepts(['application/json', 'application/fhir+json']) === 'application/fhir+json') {
      sendFhir(res, 200, checkedSummaryComposition(answer, visit.bundle, s.fhir));
      return;
    }
    res.json(answer);
  });
  return r;
}
