import { Router } from 'express';
import type { Module } from '../../module.js';
import { requestAudit } from '../../audit/audit.js';
import { badRequest } from '../../fhir/outcome.js';
import { clientOf, requireScope } from '../../http/guards.js';
import type { Services } from '../../services.js';
import type { Principal } from '../types.js';
import { identityPresentationSchema } from './presentation.js';
import { DC_API_PROTOCOL, MDL_DOCTYPE } from './request.js';

export const MDL_SECURITY_SERVICE = {
  coding: [{ system: 'urn:ktc-gateway:security-service', code: 'mdl-openid4vp' }],
  text: `Patients may prove identity with an ISO 18013-5 mobile driver's licence (${MDL_DOCTYPE}) presented over OpenID4VP 1.0 with the W3C Digital Credentials API (${DC_API_PROTOCOL}, response_mode dc_api), IAL2/AAL2-equivalent`,
};

/** What /.well-known/smart-configuration says about mDL identity (an extension field). */
export function mdlDiscovery(base: string) {
  return {
    protocols: [DC_API_PROTOCOL],
    response_modes: ['dc_api'],
    doctypes: [MDL_DOCTYPE],
    kiosk_request_endpoint: `${base}/checkin/identity-requests`,
    patient_request_endpoint: `${base}/identity-requests`,
    patient_token_endpoint: `${base}/auth/patient-token`,
  };
}

/**
 * Identity requests for an mDL, and the patient's exchange of a presentation for a short-lived
 * gateway-signed patient token (used as `Authorization: Bearer` on the patient's reads).
 */
export function mdlRoutes(s: Pick<Services, 'auth' | 'audit' | 'config'>): Router {
  const r = Router();

  r.post('/checkin/identity-requests', requireScope(s.auth, 'system/checkin.write'), async (req, res) => {
    const client = clientOf(res);
    const view = await s.auth.identityRequest({ purpose: 'checkin', organization: client.organization, clientId: client.clientId });
    const entity = { type: 'IdentityRequest', id: view.id.slice(0, 8) };
    await s.audit.record({ ...requestAudit(req, res), action: 'C', subtype: 'identity.request', organization: client.organization, entity });
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(view);
  });

  // Open to anyone, like a login page: the request is worthless without the patient's licence and phone.
  r.post('/identity-requests', async (req, res) => {
    const view = await s.auth.identityRequest({ purpose: 'patient', ...(req.ip ? { address: req.ip } : {}) });
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(view);
  });

  r.post('/auth/patient-token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const parsed = identityPresentationSchema.safeParse((req.body as { identityPresentation?: unknown } | undefined)?.identityPresentation);
    if (!parsed.success) throw badRequest('Send {identityPresentation} as the Digital Credentials API returned it', ['identityPresentation']);
    const identity = await s.auth.presentation(parsed.data, { purpose: 'patient' });
    const { token, expiresIn } = await s.auth.patientAccessToken(identity);
    res.locals.principal = { kind: 'patient', identity } satisfies Principal;
    await s.audit.record({
      ...requestAudit(req, res),
      action: 'E',
      subtype: 'auth.patient-token',
      detail: { credential: identity.evidence.credential, ial: identity.ial, aal: identity.aal },
    });
    res.status(200).json({ access_token: token, token_type: 'bearer', expires_in: expiresIn, patient: { issuer: identity.issuer, subject: identity.subject } });
  });

  return r;
}

/** Mounted only where mDL trust anchors are configured. */
export function mdlModule(s: Services): Module | undefined {
  if (!s.config.trust.mdl) return undefined;
  return { router: mdlRoutes(s), capability: { securityServices: [MDL_SECURITY_SERVICE] } };
}
