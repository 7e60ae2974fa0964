import { randomUUID } from 'node:crypto';
import type { Consent } from '@medplum/fhirtypes';
import { Router, type Request, type Response } from 'express';
import { requestAudit } from '../audit/audit.js';
import type { Queryable } from '../db/db.js';
import { isFhirId } from '../fhir/ids.js';
import { notFound } from '../fhir/outcome.js';
import { searchset } from '../fhir/searchset.js';
import { sendFhir } from '../http/body.js';
import { patientOf, requirePatient } from '../http/guards.js';
import type { Services } from '../services.js';
import { parseConsentRequest } from './consent-request.js';
import { insertConsent, listConsents, revokeConsent, type StoredConsent } from './consent-store.js';

/** Called in the revocation's transaction: whatever is still owed to the recipient on the strength of the consent is dropped. */
export type RevokeHook = (tx: Queryable, c: { recipientOrganization: string; patientIssuer: string; patientSubject: string }) => Promise<unknown>;

function view(c: StoredConsent): Consent {
  return { ...c.resource, status: c.revokedAt ? 'inactive' : 'active' };
}

/** The audit entry of a patient's change to one of their Consents. */
function consentAudit(req: Request, res: Response, e: { action: 'C' | 'D'; subtype: string; id: string; detail: Record<string, unknown> }) {
  const who = patientOf(res);
  return {
    ...requestAudit(req, res),
    action: e.action,
    subtype: e.subtype,
    entity: { type: 'Consent', id: e.id },
    patient: { issuer: who.issuer, subject: who.subject },
    detail: e.detail,
  };
}

/** A patient, with their identity token, permits an organization (POST), lists (GET) and revokes (DELETE) their Consents. */
export function consentRoutes(s: Services, onRevoke: RevokeHook): Router {
  const r = Router();
  const base = s.config.publicBaseUrl;
  const organizations = new Set(s.config.trust.clients.map((c) => c.organization));
  const patientOnly = requirePatient(s.auth);

  r.post('/fhir/Consent', patientOnly, async (req, res) => {
    const who = patientOf(res);
    const { consent, recipient } = parseConsentRequest(req.body, s.fhir, organizations);
    const now = new Date(s.clock.now());
    const id = randomUUID();
    const { id: _id, meta: _meta, ...rest } = consent;
    const resource: Consent = {
      ...rest,
      id,
      meta: { versionId: '1', lastUpdated: now.toISOString() },
      patient: { identifier: { system: who.issuer, value: who.subject } },
      dateTime: now.toISOString(),
    };
    await s.db.transaction(async (tx) => {
      await insertConsent(tx, { id, patientIssuer: who.issuer, patientSubject: who.subject, recipientOrganization: recipient, resource, createdAt: now });
      await s.audit.record(consentAudit(req, res, { action: 'C', subtype: 'consent.create', id, detail: { recipient } }), tx);
    });
    res.setHeader('Location', `${base}/fhir/Consent/${id}`);
    sendFhir(res, 201, resource);
  });

  r.get('/fhir/Consent', patientOnly, async (_req, res) => {
    const who = patientOf(res);
    const list = await listConsents(s.db, who.issuer, who.subject);
    sendFhir(res, 200, searchset(base, 'Consent', list.map(view)));
  });

  r.delete('/fhir/Consent/:id', patientOnly, async (req, res) => {
    const who = patientOf(res);
    const id = String(req.params.id);
    const revoked =
      isFhirId(id) &&
      (await s.db.transaction(async (tx) => {
        const c = await revokeConsent(tx, id, who.issuer, who.subject, new Date(s.clock.now()));
        if (!c) return false;
        const cancelled = await onRevoke(tx, c);
        await s.audit.record(consentAudit(req, res, { action: 'D', subtype: 'consent.revoke', id, detail: { recipient: c.recipientOrganization, cancelled } }), tx);
        return true;
      }));
    if (!revoked) throw notFound('No such Consent');
    res.status(204).end();
  });
  return r;
}
