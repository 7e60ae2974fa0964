import type { RequestHandler, Response } from 'express';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { badRequest, notFound, unauthorized } from '../fhir/outcome.js';
import { sendFhir, sendFhirText } from '../http/body.js';
import { bearer, clientOf, requireClientOrPatient, requireOwner, requireScope } from '../http/guards.js';
import { identityPresentationSchema } from '../identity/mdl/presentation.js';
import type { Principal, VerifiedIdentity } from '../identity/types.js';
import type { Services } from '../services.js';
import { renderLinkQr } from '../qr.js';
import { completeCheckin, type CheckinDeps } from './checkin-service.js';
import { getCheckin } from './checkin-store.js';
import type { PayloadResolver } from './resolve.js';
import { SessionEvents } from './session-events.js';
import { attachSessionIdentity, forgetExpiredSessionIdentities, sessionIdentity } from './session-identity.js';
import { sessionView, streamSession } from './session-stream.js';
import { assertOpen, getSession, openSession, type CheckinSession } from './sessions.js';
import { parseKioskSubmission, parsePatientSubmission, type IdentityEvidence } from './submission.js';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const CHECKIN_ID = /^[0-9a-f-]{36}$/;

export interface CheckinRouteDeps {
  services: Services;
  checkin: CheckinDeps;
  resolve: PayloadResolver;
}

export function checkinRoutes({ services: s, checkin, resolve }: CheckinRouteDeps): Router {
  const r = Router();
  const c: RouteContext = {
    s,
    checkin,
    resolve,
    kiosk: requireScope(s.auth, 'system/checkin.write'),
    identityFrom: (evidence, owner) =>
      evidence.kind === 'token' ? s.auth.identityToken(evidence.token) : s.auth.presentation(evidence.presentation, { purpose: 'checkin', ...owner }),
  };
  addSessionRoutes(r, c, new SessionEvents(s.db));
  addSubmissionRoutes(r, c);
  return r;
}

interface RouteContext {
  s: Services;
  checkin: CheckinDeps;
  resolve: PayloadResolver;
  kiosk: RequestHandler;
  /** The patient, proven by an identity token or by an mDL presented for one of `owner`'s requests. */
  identityFrom(evidence: IdentityEvidence, owner: { organization: string; clientId: string; sessionId?: string }): Promise<VerifiedIdentity>;
}

function created(res: Response, publicBaseUrl: string, result: { id: string; bundleJson: string }) {
  res.setHeader('Location', `${publicBaseUrl}/checkin/${result.id}`);
  sendFhirText(res, 201, result.bundleJson);
}

/** The kiosk's session: opened with a QR code, told of an mDL verified at the kiosk, followed until the check-in. */
function addSessionRoutes(r: Router, { s, kiosk, identityFrom }: RouteContext, events: SessionEvents): void {
  r.post('/checkin/sessions', kiosk, async (req, res) => {
    const client = clientOf(res);
    // The patient is about to scan: have the validation threads ready (after an idle exit, or at first use).
    s.cpu.warm().catch(() => undefined);
    await forgetExpiredSessionIdentities(s.db, new Date(s.clock.now()));
    const session = await openSession(s.db, client, new Date(s.clock.now() + s.config.checkinSessionTtlSeconds * 1000));
    const url = `${s.config.publicBaseUrl}/checkin/sessions/${session.id}/submit`;
    const qr = await renderLinkQr(url);
    // Where mDLs are accepted the kiosk page may also ask for one with the Digital Credentials API.
    const identityRequest = s.config.trust.mdl
      ? await s.auth.identityRequest({ purpose: 'checkin', organization: client.organization, clientId: client.clientId, sessionId: session.id })
      : undefined;
    await s.audit.record({ ...requestAudit(req, res), action: 'C', subtype: 'checkin.session.open', entity: { type: 'CheckinSession', id: session.id.slice(0, 8) } });
    res.status(201).json({ ...sessionView(session), url, qr, ...(identityRequest ? { identityRequest } : {}) });
  });

  /** The kiosk page verified the patient's mDL for this session; the wallet's submission then binds to it. */
  r.post('/checkin/sessions/:id/identity', kiosk, async (req, res) => {
    const client = clientOf(res);
    const id = String(req.params.id);
    const found = SESSION_ID.test(id) ? await getSession(s.db, id, s.clock.now()) : undefined;
    const session = assertOpen(found && found.clientId === client.clientId && found.organization === client.organization ? found : undefined);
    const body = req.body as { identityPresentation?: unknown } | undefined;
    const parsed = identityPresentationSchema.safeParse(body?.identityPresentation);
    if (!parsed.success) throw badRequest('Send {identityPresentation} as the Digital Credentials API returned it', ['identityPresentation']);
    const identity = await identityFrom(
      { kind: 'presentation', presentation: parsed.data },
      { organization: session.organization, clientId: session.clientId, sessionId: session.id },
    );
    await attachSessionIdentity(s.db, session.id, identity, new Date(s.clock.now()));
    await s.audit.record({
      ...requestAudit(req, res),
      action: 'E',
      subtype: 'checkin.session.identity',
      organization: session.organization,
      entity: { type: 'CheckinSession', id: session.id.slice(0, 8) },
      detail: { credential: identity.evidence.credential, ial: identity.ial, aal: identity.aal },
    });
    res.json({ ...sessionView(session), identityVerified: true });
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
}

/** The check-in itself: from the patient's phone for a session, from the kiosk directly, and read back. */
function addSubmissionRoutes(r: Router, { s, checkin, resolve, kiosk, identityFrom }: RouteContext): void {
  /**
   * Who submits: the Bearer identity token when there is one (checked first, as for every patient
   * route); else an mDL presented in the body for this session's request; else the mDL the kiosk
   * verified for this session.
   */
  const tokenlessSubmitter = async (session: CheckinSession, presentation: IdentityEvidence | undefined): Promise<VerifiedIdentity> => {
    const owner = { organization: session.organization, clientId: session.clientId, sessionId: session.id };
    const identity = presentation ? await identityFrom(presentation, owner) : await sessionIdentity(s.db, session.id);
    if (!identity) throw unauthorized('A Bearer identity token or an identityPresentation is required', undefined, { 'WWW-Authenticate': 'Bearer realm="ktc-gateway"' });
    return identity;
  };

  r.post('/checkin/sessions/:id/submit', s.admit.checkin, async (req, res) => {
    const tokenIdentity = req.get('authorization') ? await s.auth.identityToken(bearer(req)) : undefined;
    const id = String(req.params.id);
    // Checked before the payload is fetched and verified; checked again, under a row lock, when stored.
    const session = assertOpen(SESSION_ID.test(id) ? await getSession(s.db, id, s.clock.now()) : undefined);
    const { presentation, payload } = parsePatientSubmission(req.body);
    const identity = tokenIdentity ?? (await tokenlessSubmitter(session, presentation && { kind: 'presentation', presentation }));
    res.locals.principal = { kind: 'patient', identity } satisfies Principal;
    const result = await completeCheckin(checkin, {
      identity,
      content: await resolve(payload, { organization: session.organization }),
      organization: session.organization,
      clientId: session.clientId,
      sessionId: session.id,
      audit: requestAudit(req, res),
    });
    created(res, s.config.publicBaseUrl, result);
  });

  r.post('/checkin', s.admit.checkin, kiosk, async (req, res) => {
    const client = clientOf(res);
    const { identity: evidence, payload } = parseKioskSubmission(req.body);
    const identity = await identityFrom(evidence, { organization: client.organization, clientId: client.clientId });
    const result = await completeCheckin(checkin, {
      identity,
      content: await resolve(payload, { organization: client.organization }),
      organization: client.organization,
      clientId: client.clientId,
      audit: requestAudit(req, res),
    });
    created(res, s.config.publicBaseUrl, result);
  });

  r.get('/checkin/:id', requireClientOrPatient(s.auth, 'system/checkin.read'), async (req, res) => {
    const id = String(req.params.id);
    const record = requireOwner(res, CHECKIN_ID.test(id) ? await getCheckin(s.db, id) : undefined, 'check-in');
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'checkin.read', organization: record.organization, entity: { type: 'Bundle', id } });
    sendFhir(res, 200, record.bundle);
  });
}
