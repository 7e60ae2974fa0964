import { Router } from 'express';
import { badRequest } from '../fhir/outcome.js';
import type { CapabilityContribution } from '../fhir/capability.js';
import { sendFhir } from '../http/body.js';
import { principal, requireClientOrPatient } from '../http/guards.js';
import type { Services } from '../services.js';

export const auditCapability: CapabilityContribution = {
  resources: [
    {
      type: 'AuditEvent',
      documentation:
        'A client reads its organization’s trail (system/AuditEvent.read); a patient, with their identity token, reads the records about them, every disclosure of their data to another organization among them',
      searchParam: [
        { name: 'entity', type: 'reference', documentation: 'Type/id of the resource the event concerns' },
        { name: '_count', type: 'number', documentation: 'At most 1000; default 100' },
      ],
    },
  ],
};

/**
 * A client reads its own organization's audit trail (system/AuditEvent.read); a patient, with
 * their identity token, reads the records about them (every disclosure of their data).
 */
export function auditRoutes(s: Pick<Services, 'auth' | 'audit'>): Router {
  const r = Router();
  r.get('/fhir/AuditEvent', requireClientOrPatient(s.auth, 'system/AuditEvent.read'), async (req, res) => {
    const who = principal(res);
    const countRaw = req.query._count;
    const count = countRaw === undefined ? 100 : Number(countRaw);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw badRequest('_count must be an integer from 1 to 1000', ['_count']);
    let entity: { type: string; id: string } | undefined;
    if (req.query.entity !== undefined) {
      const m = typeof req.query.entity === 'string' ? /^([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})$/.exec(req.query.entity) : null;
      if (!m) throw badRequest('entity must be Type/id', ['entity']);
      entity = { type: m[1] as string, id: m[2] as string };
    }
    if (who.kind === 'patient') {
      if (entity) throw badRequest('A patient reads the records about them; entity is for clients', ['entity']);
      sendFhir(res, 200, await s.audit.searchByPatient(who.identity.issuer, who.identity.subject, count));
      return;
    }
    sendFhir(res, 200, await s.audit.search(who.client.organization, { count, ...(entity ? { entity } : {}) }));
  });
  return r;
}
