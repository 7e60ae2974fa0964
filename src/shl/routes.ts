import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { requestAudit, type AuditOutcome } from '../audit/audit.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import { principal, requireClientOrPatient } from '../http/guards.js';
import type { Services } from '../services.js';
import type { FileResult, LinkRef } from './host.js';
import { shlMetrics, type ShlMetrics } from './metrics.js';

/**
 * The SHL protocol endpoints for links the gateway hosts. Where the SHL spec defines an error body
 * (401 `{remainingAttempts}`) it is used; every other error is an OperationOutcome. Every inactive
 * state answers the same 404, so unknown, expired, revoked and locked links cannot be told apart.
 */

const MANIFEST_ID = /^[A-Za-z0-9_-]{43}$/;
const INACTIVE = 'This SMART Health Link is not active';
const RECIPIENT_MAX = 512;

const manifestBody = z.object({
  recipient: z.string().trim().min(1).max(RECIPIENT_MAX),
  passcode: z.string().max(1024).optional(),
  embeddedLengthMax: z.number().int().min(0).optional(),
});

const recipientQuery = z.string().trim().min(1).max(RECIPIENT_MAX);

/** Browser viewers on other origins may read manifests and files; no credentials are involved. */
function cors(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  res.setHeader('Access-Control-Max-Age', '600');
  next();
}

function manifestId(req: Request): string {
  const id = String(req.params.id);
  if (!MANIFEST_ID.test(id)) throw notFound(INACTIVE);
  return id;
}

function sendJwe(res: Response, jwe: string) {
  // A Buffer, so express does not append a charset to the spec's bare application/jose.
  res.status(200).setHeader('Content-Type', 'application/jose');
  res.send(Buffer.from(jwe, 'utf8'));
}

type Audit = (req: Request, res: Response, link: LinkRef, subtype: string, outcome: AuditOutcome, detail: Record<string, unknown>) => Promise<unknown>;

/** POST /shl/:id: the manifest, the SHL spec's 401 `{remainingAttempts}` for a passcode, or the one 404. */
function manifestRoute(s: Services, metrics: ShlMetrics, audit: Audit) {
  return async (req: Request, res: Response) => {
    const id = manifestId(req);
    const body = manifestBody.safeParse(req.body);
    if (!body.success) {
      metrics.manifestRequests.inc({ outcome: 'invalid' });
      const where = body.error.issues[0]?.path.join('.') || 'body';
      throw badRequest(`The manifest request needs {recipient, passcode?, embeddedLengthMax?}; ${where} is not valid`, [where]);
    }
    const { recipient, passcode, embeddedLengthMax } = body.data;
    const result = await s.shl.manifest(id, { recipient, ...(passcode !== undefined ? { passcode } : {}), ...(embeddedLengthMax !== undefined ? { embeddedLengthMax } : {}) });
    metrics.manifestRequests.inc({ outcome: result.kind });
    switch (result.kind) {
      case 'ok':
        await audit(req, res, result.link, 'shl.manifest', '0', {
          recipient,
          files: result.files.length,
          embedded: result.files.filter((f) => f.embedded !== undefined).length,
        });
        res.status(200).json({ files: result.files });
        return;
      case 'passcode':
        await audit(req, res, result.link, 'shl.manifest', '4', {
          recipient,
          reason: passcode === undefined ? 'passcode-missing' : 'passcode-wrong',
          remainingAttempts: result.remainingAttempts,
        });
        res.status(401).json({ remainingAttempts: result.remainingAttempts });
        return;
      case 'inactive':
        if (result.link) await audit(req, res, result.link, 'shl.manifest', '4', { recipient, reason: 'inactive' });
        throw notFound(INACTIVE);
    }
  };
}

export function shlRoutes(s: Services): Router {
  const r = Router();
  const metrics = shlMetrics(s.metrics.registry);

  const audit = (req: Request, res: Response, link: LinkRef, subtype: string, outcome: AuditOutcome, detail: Record<string, unknown>) =>
    s.audit.record({
      ...requestAudit(req, res),
      action: 'R',
      subtype,
      outcome,
      organization: link.organization,
      entity: { type: 'SmartHealthLink', id: link.auditId },
      detail,
    });

  const served = async (req: Request, res: Response, route: 'location' | 'direct', result: FileResult, recipient: string | undefined) => {
    metrics.fileRequests.inc({ route, outcome: result.kind });
    const subtype = route === 'location' ? 'shl.file' : 'shl.direct';
    // A location fetch is audited under the recipient its manifest request named.
    const who = result.kind === 'ok' ? (result.recipient ?? recipient) : recipient;
    if (result.link)
      await audit(req, res, result.link, subtype, result.kind === 'ok' ? '0' : '4', {
        ...(who ? { recipient: who } : {}),
        ...(route === 'location' ? { file: req.params.fileId } : {}),
      });
    if (result.kind !== 'ok') throw notFound(INACTIVE);
    sendJwe(res, result.jwe);
  };

  r.use('/shl', cors);
  r.options(['/shl/:id', '/shl/:id/file/:fileId'], (_req, res) => {
    res.status(204).end();
  });

  r.post('/shl/:id', manifestRoute(s, metrics, audit));

  r.get('/shl/:id/file/:fileId', async (req, res) => {
    const id = manifestId(req);
    const fileIndex = String(req.params.fileId);
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (!/^\d{1,3}$/.test(fileIndex) || !MANIFEST_ID.test(token)) {
      metrics.fileRequests.inc({ route: 'location', outcome: 'inactive' });
      throw notFound(INACTIVE);
    }
    await served(req, res, 'location', await s.shl.file(id, Number(fileIndex), token), undefined);
  });

  r.get('/shl/:id', async (req, res) => {
    const id = manifestId(req);
    const recipient = recipientQuery.safeParse(req.query.recipient);
    if (!recipient.success) throw badRequest(`A U-flag link is fetched with ?recipient= (1 to ${RECIPIENT_MAX} characters)`, ['recipient']);
    await served(req, res, 'direct', await s.shl.direct(id), recipient.data);
  });

  r.delete('/shl/:id', requireClientOrPatient(s.auth, 'system/visit.write'), async (req, res) => {
    const id = manifestId(req);
    const link = await s.shl.revoke(id, principal(res));
    if (!link) throw notFound(INACTIVE);
    await s.audit.record({ ...requestAudit(req, res), action: 'D', subtype: 'shl.revoke', organization: link.organization, entity: { type: 'SmartHealthLink', id: link.auditId } });
    res.status(204).end();
  });

  return r;
}
