import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import { Router } from 'express';
import { requestAudit } from '../audit/audit.js';
import { HttpError, badRequest, issue, outcome } from '../fhir/outcome.js';
import { searchset } from '../fhir/searchset.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireScope } from '../http/guards.js';
import { checkTarget } from '../net/guarded-fetch.js';
import { OutboundError } from '../net/types.js';
import type { Services } from '../services.js';
import { PATIENT_IDENTIFIER } from './filters.js';
import { handshake } from './handshake.js';
import { ownSubscription } from './own-subscription.js';
import { parseSubscriptionRequest, type SubscriptionRequest } from './subscription-request.js';
import { deleteSubscription, getSubscription, insertSubscription, listSubscriptions, type StoredSubscription } from './subscription-store.js';

export const SUBSCRIPTION_STATUSES = ['requested', 'active', 'error', 'off'];

function subscriptionView(sub: StoredSubscription): Subscription {
  return {
    ...sub.resource,
    id: sub.id,
    meta: { lastUpdated: sub.createdAt.toISOString() },
    status: sub.status,
    ...(sub.error ? { error: sub.error.text } : {}),
  };
}

/** Refuses an endpoint the outbound guard forbids; an unreachable one is the handshake's to report. */
async function checkEndpointAllowed(s: Pick<Services, 'config'>, request: SubscriptionRequest): Promise<void> {
  try {
    await checkTarget(request.endpoint, s.config.trust.outboundAllowlist);
  } catch (e) {
    if (!(e instanceof OutboundError)) throw e;
    if (e.refused) {
      const diagnostics = e.kind === 'insecure-scheme' ? 'channel.endpoint must be an https URL' : 'channel.endpoint is not an allowed destination';
      throw new HttpError(422, outcome([issue('security', diagnostics, ['Subscription.channel.endpoint'])]));
    }
  }
}

function requireNamedPatients(purposes: readonly string[], request: SubscriptionRequest): void {
  if (!purposes.length || request.patientKeys.length) return;
  // No bulk surveillance: another organization's events only ever for patients named one by one.
  throw new HttpError(
    422,
    outcome([
      issue('business-rule', `A subscription made with a purpose of use must name its patient: add the filter ${request.topic.resourceType}?${PATIENT_IDENTIFIER}=system|value`, [
        'Subscription.criteria.extension',
      ]),
    ]),
  );
}

/** Stores the new subscription, leased to its handshake, and audits it in the same transaction. */
async function storeSubscription(
  s: Services,
  n: {
    id: string;
    owner: string;
    client: ReturnType<typeof clientOf>;
    purposes: NonNullable<ReturnType<typeof clientOf>['purposes']>;
    request: SubscriptionRequest;
    audit: ReturnType<typeof requestAudit>;
  },
) {
  const { id, client, purposes, request, audit } = n;
  return s.db.transaction(async (tx) => {
    const sub = await insertSubscription(tx, {
      id,
      organization: client.organization,
      clientId: client.clientId,
      purposes,
      request,
      now: new Date(s.clock.now()),
      leaseOwner: n.owner,
    });
    await s.audit.record(
      {
        ...audit,
        action: 'C',
        subtype: 'subscription.create',
        organization: client.organization,
        entity: { type: 'Subscription', id },
        detail: { topic: request.topic.id, payload: request.payload, ...(purposes.length ? { purposeOfUse: purposes.join(' '), patients: request.patientKeys.length } : {}) },
      },
      tx,
    );
    return sub;
  });
}

/**
 * Subscriptions: create (with the rest-hook handshake), read, list, delete. A token carrying
 * purposes of use makes the subscription cross-organization, which must name its patients.
 */
export function subscriptionRoutes(s: Services): Router {
  const r = Router();
  const readSubs = requireScope(s.auth, 'system/Subscription.read');
  const writeSubs = requireScope(s.auth, 'system/Subscription.write');
  const base = s.config.publicBaseUrl;

  r.post('/fhir/Subscription', writeSubs, async (req, res) => {
    const client = clientOf(res);
    const request = parseSubscriptionRequest(req.body, s.fhir, s.clock.now());
    const purposes = client.purposes ?? [];
    requireNamedPatients(purposes, request);
    await checkEndpointAllowed(s, request);
    const id = randomUUID();
    const owner = `handshake:${randomUUID()}`;
    const stored = await storeSubscription(s, { id, owner, client, purposes, request, audit: requestAudit(req, res) });
    await handshake(s, stored, owner);
    const current = (await getSubscription(s.db, id, client.organization)) ?? stored;
    res.setHeader('Location', `${base}/fhir/Subscription/${id}`);
    sendFhir(res, 201, subscriptionView(current));
  });

  r.get('/fhir/Subscription', readSubs, async (req, res) => {
    const raw = req.query.status;
    const statuses = typeof raw === 'string' ? raw.split(',') : undefined;
    if (raw !== undefined && (!statuses || statuses.some((x) => !SUBSCRIPTION_STATUSES.includes(x)))) {
      throw badRequest(`status must be one or more of ${SUBSCRIPTION_STATUSES.join(', ')}`, ['status']);
    }
    const subs = await listSubscriptions(s.db, clientOf(res).organization, statuses);
    sendFhir(res, 200, searchset(base, 'Subscription', subs.map(subscriptionView)));
  });

  r.get('/fhir/Subscription/:id', readSubs, async (req, res) => {
    const sub = await ownSubscription(s, req, res);
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'subscription.read', organization: sub.organization, entity: { type: 'Subscription', id: sub.id } });
    sendFhir(res, 200, subscriptionView(sub));
  });

  r.delete('/fhir/Subscription/:id', writeSubs, async (req, res) => {
    const sub = await ownSubscription(s, req, res);
    await s.db.transaction(async (tx) => {
      await deleteSubscription(tx, sub.id, sub.organization, new Date(s.clock.now()));
      await s.audit.record(
        { ...requestAudit(req, res), action: 'D', subtype: 'subscription.delete', organization: sub.organization, entity: { type: 'Subscription', id: sub.id } },
        tx,
      );
    });
    res.status(204).end();
  });

  return r;
}
