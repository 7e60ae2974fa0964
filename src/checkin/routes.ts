import type { Response } from 'express';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { notFound } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { clientOf, patientOf, requireClientOrPatient, requireOwner, requirePatient, requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { renderLinkQr } from '../qr.js';
import { completeCheckin, type CheckinDeps } from './checkin-service.js';
import { getCheckin } from './checkin-store.js';
import type { PayloadResolver } from './resolve.js';
import { SessionEvents } from './session-events.js';
import { sessionView, streamSession } from './session-stream.js';
import { assertOpen, getSession, openSession } from './sessions.js';
import { parseKioskSubmission, parsePatientSubmission } from './submission.js';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const CHECKIN_ID = /^[0-9a-f-]{36}$/;

export interface CheckinRouteDeps {
  services: Services;
  checkin: CheckinDeps;
  resolve: PayloadResolver;
}

export function checkinRoutes({ services: s, checkin, resolve }: CheckinRouteDeps): Router {
  const r = Router();
  const kiosk = requireScope(s.auth, 'system/checkin.write');
  const events = new SessionEvents(s.db);

  const created = (res: Response, result: { id: string; bundle: unknown }) => {
    res.setHeader('Location', `${s.config.publicBaseUrl}/checkin/${result.id}`);
    sendFhir(res, 201, result.bundle);
  };

  r.post('/checkin/sessions', kiosk, async (req, res) => {
    const client = clientOf(res);
    const session = await openSession(s.db, client, new Date(s.clock.now() + s.config.checkinSessionTtlSeconds * 1000));
    const url = `${s.config.publicBaseUrl}/checkin/sessions/${session.id}/submit`;
    const qr = await renderLinkQr(url);
    await s.audit.record({ ...requestAudit(req, res), action: 'C', subtype: 'checkin.session.open', entity: { type: 'CheckinSession', id: session.id.slice(0, 8) } });
    res.status(201).json({ ...sessionView(session), url, qr });
  });

  /** The kiosk follows its session by polling, or with Accept: text/event-stream as Server-Sent Events. */
  r.get('/checkin/sessions/:id', kiosk, async (req, res) => {
    const client = clientOf(res);
    const id = String(req.params.id);
    const load = async () => {
      const session = SESSION_ID.test(id) ? await getSession(s.db, id, s.clock.now()) : undefined;
      return session && session.clientId === client.clientId && session.organization === client.organization ? session : undefined;
    };
    const first = await load();
    if (!first) throw notFound('No such check-in session');
    if (req.get('accept')?.includes('text/event-stream')) await streamSession(res, first, { events, clock: s.clock, load });
    else res.json(sessionView(first));
  });

  r.post('/checkin/sessions/:id/submit', requirePatient(s.auth), async (req, res) => {
    const id = String(req.params.id);
    // Checked before the payload is fetched and verified; checked again, under a row lock, when stored.
    const session = assertOpen(SESSION_ID.test(id) ? await getSession(s.db, id, s.clock.now()) : undefined);
    const payload = parsePatientSubmission(req.body);
    const result = await completeCheckin(checkin, {
      identity: patientOf(res),
      content: await resolve(payload, { organization: session.organization }),
      organization: session.organization,
      clientId: session.clientId,
      sessionId: session.id,
      audit: requestAudit(req, res),
    });
    created(res, result);
  });

  r.post('/checkin', kiosk, async (req, res) => {
    const client = clientOf(res);
    const { identityToken, payload } = parseKioskSubmission(req.body);
    const identity = await s.auth.patient(identityToken);
    const result = await completeCheckin(checkin, {
      identity,
      content: await resolve(payload, { organization: client.organization }),
      organization: client.organization,
      clientId: client.clientId,
      audit: requestAudit(req, res),
    });
    created(res, result);
  });

  r.get('/checkin/:id', requireClientOrPatient(s.auth, 'system/checkin.read'), async (req, res) => {
    const id = String(req.params.id);
    const record = requireOwner(res, CHECKIN_ID.test(id) ? await getCheckin(s.db, id) : undefined, 'check-in');
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'checkin.read', organization: record.organization, entity: { type: 'Bundle', id } });
    sendFhir(res, 200, record.bundle);
  });

  return r;
}
