import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { Router, type Request, type Response } from 'express';
import { requestAudit } from '../audit/audit.js';
import { badRequest } from '../fhir/outcome.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireScope } from '../http/guards.js';
import type { Services } from '../services.js';
import { PAYLOAD_CONTENTS, type PayloadContent } from './backport.js';
import { notificationBundle, statusParameters, statusSearchset } from './notification-bundle.js';
import { disclosureAudit, isDisclosure } from './disclosure-audit.js';
import { eventsInRange, subscriptionStats, subscriptionsStats, type SubscriptionDeliveryStats } from './outbox.js';
import { ownSubscription } from './own-subscription.js';
import { SUBSCRIPTION_STATUSES } from './subscription-routes.js';
import { listSubscriptions, type StoredSubscription } from './subscription-store.js';

/** $events answers at most this many events per call; the client pages with eventsSinceNumber. */
export const MAX_EVENTS_PER_QUERY = 1000;

/** Operation inputs from the query string (GET) or a Parameters body (POST). */
function operationInputs(req: Request, fhir: Services['fhir']): Map<string, string[]> {
  const inputs = new Map<string, string[]>();
  const add = (name: string, value: unknown) => {
    if (typeof value === 'string') inputs.set(name, [...(inputs.get(name) ?? []), ...value.split(',')]);
    else if (typeof value === 'number' || typeof value === 'boolean') inputs.set(name, [...(inputs.get(name) ?? []), String(value)]);
  };
  if (req.method === 'POST' && req.body !== undefined) {
    const body = req.body as Parameters;
    if (body?.resourceType !== 'Parameters') throw badRequest('An operation body must be a FHIR Parameters resource');
    fhir.validate(body);
    for (const p of body.parameter ?? []) {
      const v = p.valueString ?? p.valueCode ?? p.valueId ?? p.valueInteger ?? p.valueUnsignedInt ?? p.valuePositiveInt;
      add(p.name, v);
    }
  }
  for (const [name, value] of Object.entries(req.query)) add(name, value);
  return inputs;
}

function eventNumberInput(inputs: Map<string, string[]>, name: string): number | undefined {
  const v = inputs.get(name);
  if (!v) return undefined;
  if (v.length !== 1 || !/^[1-9]\d{0,15}$/.test(v[0] as string)) throw badRequest(`${name} must be one positive event number`, [name]);
  return Number(v[0]);
}

/** A subscription's status for $status: the IG's SubscriptionStatus plus the gateway's delivery figures. */
async function subscriptionStatus(s: Pick<Services, 'db' | 'clock' | 'config'>, sub: StoredSubscription, stats?: SubscriptionDeliveryStats): Promise<Parameters> {
  const st = stats ?? (await subscriptionStats(s.db, sub.id, new Date(s.clock.now())));
  const count = (name: string, n: number): ParametersParameter => ({ name, valueInteger: n });
  const delivery: ParametersParameter = {
    name: 'ktc-delivery',
    part: [
      count('pending', st.pending),
      count('overdue', st.overdue),
      count('delivered', st.delivered),
      count('late', st.late),
      count('failed', st.failed),
      ...(st.lastDelivered
        ? [
            { name: 'last-delivered-event', valueString: String(st.lastDelivered.eventNumber) },
            { name: 'last-delivered-at', valueInstant: st.lastDelivered.at.toISOString() },
          ]
        : []),
      ...(st.timeToDelivery
        ? [
            { name: 'time-to-delivery-p50-seconds', valueDecimal: st.timeToDelivery.p50 },
            { name: 'time-to-delivery-p99-seconds', valueDecimal: st.timeToDelivery.p99 },
            { name: 'time-to-delivery-max-seconds', valueDecimal: st.timeToDelivery.max },
          ]
        : []),
      ...(st.lastError ? [{ name: 'last-event-error', valueString: st.lastError }] : []),
    ],
  };
  return statusParameters({
    publicBaseUrl: s.config.publicBaseUrl,
    subscriptionId: sub.id,
    topic: sub.topic,
    status: sub.status,
    type: 'query-status',
    eventsSinceStart: sub.eventCount,
    payload: sub.payload,
    events: [],
    errors: sub.error ? [sub.error] : [],
    extra: [delivery],
  });
}

/** The Backport IG operations on a subscription's owner's behalf: $status (type and instance) and $events. */
export function operationRoutes(s: Services): Router {
  const r = Router();
  const readSubs = requireScope(s.auth, 'system/Subscription.read');
  const base = s.config.publicBaseUrl;

  const typeStatus = async (req: Request, res: Response) => {
    const inputs = operationInputs(req, s.fhir);
    const statuses = inputs.get('status');
    if (statuses?.some((x) => !SUBSCRIPTION_STATUSES.includes(x))) throw badRequest(`status must be one or more of ${SUBSCRIPTION_STATUSES.join(', ')}`, ['status']);
    const ids = inputs.get('id');
    const subs = (await listSubscriptions(s.db, clientOf(res).organization, statuses)).filter((x) => !ids || ids.includes(x.id));
    // One statistics query for all of them, not one per subscription.
    const stats = await subscriptionsStats(
      s.db,
      subs.map((x) => x.id),
      new Date(s.clock.now()),
    );
    sendFhir(res, 200, statusSearchset(await Promise.all(subs.map((sub) => subscriptionStatus(s, sub, stats.get(sub.id)))), new Date(s.clock.now())));
  };
  r.get('/fhir/Subscription/$status', readSubs, typeStatus);
  r.post('/fhir/Subscription/$status', readSubs, typeStatus);

  const instanceStatus = async (req: Request, res: Response) => {
    const sub = await ownSubscription(s, req, res);
    sendFhir(res, 200, statusSearchset([await subscriptionStatus(s, sub)], new Date(s.clock.now())));
  };
  r.get('/fhir/Subscription/:id/$status', readSubs, instanceStatus);
  r.post('/fhir/Subscription/:id/$status', readSubs, instanceStatus);

  const events = async (req: Request, res: Response) => {
    const sub = await ownSubscription(s, req, res);
    const inputs = operationInputs(req, s.fhir);
    const from = eventNumberInput(inputs, 'eventsSinceNumber') ?? 1;
    const to = eventNumberInput(inputs, 'eventsUntilNumber') ?? sub.eventCount;
    const content = inputs.get('content');
    if (content && (content.length !== 1 || !PAYLOAD_CONTENTS.includes(content[0] as PayloadContent))) {
      throw badRequest(`content must be one of ${PAYLOAD_CONTENTS.join(', ')}`, ['content']);
    }
    const payload = (content?.[0] as PayloadContent | undefined) ?? sub.payload;
    const list = from <= to ? await eventsInRange(s.db, sub.id, from, to, MAX_EVENTS_PER_QUERY, payload === 'full-resource') : [];
    await s.audit.record({
      ...requestAudit(req, res),
      action: 'R',
      subtype: 'subscription.events',
      organization: sub.organization,
      entity: { type: 'Subscription', id: sub.id },
      detail: { from, to, count: list.length, payload },
    });
    // A replay tells another organization again: audited at the source like the delivery was.
    if (payload !== 'empty') {
      for (const e of list.filter(isDisclosure)) await s.audit.record(disclosureAudit(e, sub, { ...requestAudit(req, res), subtype: 'disclosure.events' }));
    }
    const now = new Date(s.clock.now());
    sendFhir(
      res,
      200,
      notificationBundle(
        { publicBaseUrl: base, subscriptionId: sub.id, topic: sub.topic, status: sub.status, type: 'query-event', eventsSinceStart: sub.eventCount, payload, events: list },
        now,
      ),
    );
  };
  r.get('/fhir/Subscription/:id/$events', readSubs, events);
  r.post('/fhir/Subscription/:id/$events', readSubs, events);

  return r;
}
