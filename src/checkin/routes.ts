import type { Response } from 'express';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { notFound } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { clientOf, patientOf, requireClientOrPatient, requireOwner, requirePatient, requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { renderQr } from '../qr.js';
import { completeCheckin, type CheckinDeps } from './checkin-service.js';
import { getCheckin } from './checkin-store.js';
import type { PayloadResolver } from './resolve.js';
import { assertOpen, getSession, openSession, type CheckinSession } from './sessions.js';
import { parseKioskSubmission, parsePatientSubmission } from './submission.js';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const CHECKIN_ID = /^[0-9a-f-]{36}$/;

export interface CheckinRouteDeps {
  services: Services;
  checkin: CheckinDeps;
  resolve: PayloadResolver;
}

function sessionView(s: CheckinSession) {
  return { id: s.id, status: s.status, expiresAt: s.expiresAt.toISOString(), ...(s.checkinId ? { checkinId: s.checkinId } : {}) };
}

export function checkinRoutes({ services: s, checkin, resolve }: CheckinRouteDeps): Router {
  const r = Router();
  const kiosk = requireScope(s.auth, 'system/checkin.write');

  const created = (res: Response, result: { id: string; bundle: unknown }) => {
    res.setHeader('Location', `${s.config.publicBaseUrl}/checkin/${result.id}`);
    sendFhir(res, 201, result.bundle);
  };

  r.post('/checkin/sessions', kiosk, async (req, res) => {
    const client = clientOf(res);
    // The patient is about to scan: have the validation threads ready (after an idle exit, or at first use).
    s.cpu.warm().catch(() => undefined);
    const session = await openSession(s.db, client, new Date(s.clock.now() + s.config.checkinSessionTtlSeconds * 1000));
    const url = `${s.config.publicBaseUrl}/checkin/sessions/${session.id}/submit`;
    const qr = await renderQr(url, 'M');
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
    if (!req.get('accept')?.includes('text/event-stream')) {
      res.json(sessionView(first));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    let last = '';
    const push = (session: CheckinSession) => {
      const data = JSON.stringify(sessionView(session));
      if (data !== last) res.write(`event: status\ndata: ${data}\n\n`);
      last = data;
      return session.status !== 'waiting';
    };
    if (push(first)) {
      res.end();
      return;
    }
    // Polls the database, not process memory, so the stream works whichever replica took the submission.
    const timer = setInterval(() => {
      load()
        .then((session) => {
          if (!session || push(session)) stop();
        })
        .catch(stop);
    }, 500);
    const stop = () => {
      clearInterval(timer);
      res.end();
    };
    req.on('close', () => clearInterval(timer));
  });

  r.post('/checkin/sessions/:id/submit', s.admit.checkin, requirePatient(s.auth), async (req, res) => {
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

  r.post('/checkin', s.admit.checkin, kiosk, async (req, res) => {
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
