import type { Response } from 'express';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { getCheckin } from '../checkin/checkin-store.js';
import { conflict, notFound, unprocessable } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireClientOrPatient, requireOwner, requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { parseShlink } from '../shl/link.js';
import { ShlUpdateError } from '../shl/host.js';
import { parseLinkSummaryRequest, parseVisitRequest } from './visit-request.js';
import { createVisitSummary, linkSummary, type VisitDeps } from './visit-service.js';
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

  /** The signed card as a `.smart-health-card` file (it is also a file of the visit link). */
  r.get('/visits/:id/health-card', requireClientOrPatient(s.auth, 'system/visit.read'), async (req, res) => {
    const visit = await readable(String(req.params.id), res);
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'visit.health-card', organization: visit.organization, entity: { type: 'Bundle', id: visit.id } });
    res
      .status(200)
      .type('application/smart-health-card')
      .setHeader('Content-Disposition', `attachment; filename="visit-${visit.id}.smart-health-card"`)
      .send(JSON.stringify({ verifiableCredential: [visit.healthCard] }));
  });

  /**
   * The plain-language summary added to (or renewed in) the visit's link later: a new version of
   * the link's files, same link. The gateway keeps no link keys, so the body brings the link.
   */
  r.post('/visits/:id/$add-plain-language-summary', requireClientOrPatient(s.auth, 'system/visit.write'), async (req, res) => {
    const visit = await readable(String(req.params.id), res);
    const { shlink, options } = parseLinkSummaryRequest(req.body, visit.bundle);
    const key = linkKeyOf(shlink, visit, deps);
    const summary = await linkSummary(deps, { visit, shlId: visit.shlId!, key, options, audit: requestAudit(req, res) }).catch(updateRefused);
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json({ visitId: visit.id, plainLanguageSummary: summary });
  });

  return r;
}

/** The key of the visit's own link; any other link (or none) is refused without saying why it differs. */
function linkKeyOf(shlink: string, visit: VisitRecord, deps: VisitDeps): string {
  const own = visit.shlId ? deps.shl.manifestUrl(visit.shlId) : undefined;
  let link: ReturnType<typeof parseShlink> | undefined;
  try {
    link = parseShlink(shlink, { allowlist: [new URL(deps.publicBaseUrl).host] });
  } catch {
    link = undefined;
  }
  if (!own || link?.url !== own) throw unprocessable('shlink is not the link of this visit', ['Parameters.parameter']);
  return link.key;
}

const UPDATE_REFUSED: Record<ShlUpdateError['reason'], () => Error> = {
  inactive: () => conflict("The visit's link has expired or was revoked; post a new visit summary"),
  'single-file': () => conflict("The visit's link is a single-file (U flag) link, which holds one file only"),
  'wrong-key': () => unprocessable('shlink is not the link of this visit', ['Parameters.parameter']),
  full: () => conflict("The visit's link holds as many files as a link may"),
};

function updateRefused(e: unknown): never {
  throw e instanceof ShlUpdateError ? UPDATE_REFUSED[e.reason]() : e;
}
