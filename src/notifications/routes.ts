import { randomUUID } from 'node:crypto';
import type { Parameters, ParametersParameter, Subscription } from '@medplum/fhirtypes';
import { Router, type Request, type Response } from 'express';
import { requestAudit } from '../audit/audit.js';
import { HttpError, badRequest, gone, issue, notFound, outcome } from '../fhir/outcome.js';
import { getResource } from '../fhir/resource-store.js';
import { sendFhir } from '../http/body.js';
import { clientOf, requireScope } from '../http/guards.js';
import { checkTarget } from '../net/guarded-fetch.js';
import { OutboundError } from '../net/types.js';
import type { Services } from '../services.js';
import { PAYLOAD_CONTENTS, type PayloadContent } from './backport.js';
import { handshake } from './handshake.js';
import { notificationBundle, statusParameters, statusSearchset } from './notification-bundle.js';
import { eventsInRange, subscriptionStats } from './outbox.js';
import { checkBody, isFhirId, writeTopicResource, type TopicResourceType } from './resource-changes.js';
import { parseSubscriptionRequest } from './subscription-request.js';
import { deleteSubscription, getSubscription, insertSubscription, listSubscriptions, type StoredSubscription } from './subscription-store.js';
import { basicTopic, subscriptionTopic } from './topic-resources.js';
import { TOPICS, topicById } from './topics.js';

/** $events answers at most this many events per call; the client pages with eventsSinceNumber. */
export const MAX_EVENTS_PER_QUERY = 1000;
const STATUSES = ['requested', 'active', 'error', 'off'];

function subscriptionView(sub: StoredSubscription): Subscription {
  return {
    ...sub.resource,
    id: sub.id,
    meta: { lastUpdated: sub.createdAt.toISOString() },
    status: sub.status,
    ...(sub.error ? { error: sub.error.text } : {}),
  };
}

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

export function notificationRoutes(s: Services): Router {
  const r = Router();
  const readSubs = requireScope(s.auth, 'system/Subscription.read');
  const writeSubs = requireScope(s.auth, 'system/Subscription.write');
  const base = s.config.publicBaseUrl;

  /** The caller's own subscription; other organizations' are indistinguishable from missing ones. */
  const ownSubscription = async (req: Request, res: Response): Promise<StoredSubscription> => {
    const id = String(req.params.id);
    const sub = isFhirId(id) ? await getSubscription(s.db, id, clientOf(res).organization) : undefined;
    if (!sub) throw notFound('No such Subscription');
    if (sub.deletedAt) throw gone('The Subscription was deleted');
    return sub;
  };

  const statusOf = async (sub: StoredSubscription): Promise<Parameters> => {
    const now = new Date(s.clock.now());
    const st = await subscriptionStats(s.db, sub.id, now);
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
      publicBaseUrl: base,
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
  };

  // Topics: discovery, no credentials needed (they hold no data).
  r.get('/fhir/SubscriptionTopic', (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    const topics = TOPICS.filter((t) => url === undefined || t.url === url).map(subscriptionTopic);
    sendFhir(res, 200, { resourceType: 'Bundle', type: 'searchset', total: topics.length, entry: topics.map((t) => ({ fullUrl: `${base}/fhir/SubscriptionTopic/${t.id}`, resource: t, search: { mode: 'match' } })) });
  });
  r.get('/fhir/SubscriptionTopic/:id', (req, res) => {
    const t = topicById(String(req.params.id));
    if (!t) throw notFound('No such SubscriptionTopic');
    sendFhir(res, 200, subscriptionTopic(t));
  });
  r.get('/fhir/Basic', (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code : undefined;
    const wanted = code === undefined || code === 'SubscriptionTopic' || code === 'http://hl7.org/fhir/fhir-types|SubscriptionTopic';
    const topics = wanted ? TOPICS.map(basicTopic) : [];
    sendFhir(res, 200, { resourceType: 'Bundle', type: 'searchset', total: topics.length, entry: topics.map((b) => ({ fullUrl: `${base}/fhir/Basic/${b.id}`, resource: b, search: { mode: 'match' } })) });
  });
  r.get('/fhir/Basic/:id', (req, res) => {
    const t = topicById(String(req.params.id));
    if (!t) throw notFound('No such Basic resource');
    sendFhir(res, 200, basicTopic(t));
  });

  r.post('/fhir/Subscription', writeSubs, async (req, res) => {
    const client = clientOf(res);
    const request = parseSubscriptionRequest(req.body, s.fhir, s.clock.now());
    try {
      await checkTarget(request.endpoint, s.config.trust.outboundAllowlist);
    } catch (e) {
      if (!(e instanceof OutboundError)) throw e;
      // An unreachable endpoint is the handshake's to report; a forbidden one is refused outright.
      if (e.kind === 'blocked' || e.kind === 'bad-url') {
        const diagnostics = e.message.startsWith('plain http') ? 'channel.endpoint must be an https URL' : 'channel.endpoint is not an allowed destination';
        throw new HttpError(422, outcome([issue('security', diagnostics, ['Subscription.channel.endpoint'])]));
      }
    }
    const id = randomUUID();
    const owner = `handshake:${randomUUID()}`;
    const stored = await s.db.transaction(async (tx) => {
      const sub = await insertSubscription(tx, { id, organization: client.organization, clientId: client.clientId, request, now: new Date(s.clock.now()), leaseOwner: owner });
      await s.audit.record(
        { ...requestAudit(req, res), action: 'C', subtype: 'subscription.create', organization: client.organization, entity: { type: 'Subscription', id }, detail: { topic: request.topic.id, payload: request.payload } },
        tx,
      );
      return sub;
    });
    await handshake(s, stored, owner);
    const current = (await getSubscription(s.db, id, client.organization)) ?? stored;
    res.setHeader('Location', `${base}/fhir/Subscription/${id}`);
    sendFhir(res, 201, subscriptionView(current));
  });

  r.get('/fhir/Subscription', readSubs, async (req, res) => {
    const raw = req.query.status;
    const statuses = typeof raw === 'string' ? raw.split(',') : undefined;
    if (raw !== undefined && (!statuses || statuses.some((x) => !STATUSES.includes(x)))) throw badRequest(`status must be one or more of ${STATUSES.join(', ')}`, ['status']);
    const subs = await listSubscriptions(s.db, clientOf(res).organization, statuses);
    sendFhir(res, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: subs.length,
      entry: subs.map((x) => ({ fullUrl: `${base}/fhir/Subscription/${x.id}`, resource: subscriptionView(x), search: { mode: 'match' } })),
    });
  });

  const typeStatus = async (req: Request, res: Response) => {
    const inputs = operationInputs(req, s.fhir);
    const statuses = inputs.get('status');
    if (statuses?.some((x) => !STATUSES.includes(x))) throw badRequest(`status must be one or more of ${STATUSES.join(', ')}`, ['status']);
    const ids = inputs.get('id');
    const subs = (await listSubscriptions(s.db, clientOf(res).organization, statuses)).filter((x) => !ids || ids.includes(x.id));
    sendFhir(res, 200, statusSearchset(await Promise.all(subs.map(statusOf)), new Date(s.clock.now())));
  };
  r.get('/fhir/Subscription/$status', readSubs, typeStatus);
  r.post('/fhir/Subscription/$status', readSubs, typeStatus);

  const instanceStatus = async (req: Request, res: Response) => {
    const sub = await ownSubscription(req, res);
    sendFhir(res, 200, statusSearchset([await statusOf(sub)], new Date(s.clock.now())));
  };
  r.get('/fhir/Subscription/:id/$status', readSubs, instanceStatus);
  r.post('/fhir/Subscription/:id/$status', readSubs, instanceStatus);

  const events = async (req: Request, res: Response) => {
    const sub = await ownSubscription(req, res);
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

  r.get('/fhir/Subscription/:id', readSubs, async (req, res) => {
    const sub = await ownSubscription(req, res);
    await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: 'subscription.read', organization: sub.organization, entity: { type: 'Subscription', id: sub.id } });
    sendFhir(res, 200, subscriptionView(sub));
  });

  r.delete('/fhir/Subscription/:id', writeSubs, async (req, res) => {
    const sub = await ownSubscription(req, res);
    await s.db.transaction(async (tx) => {
      await deleteSubscription(tx, sub.id, sub.organization, new Date(s.clock.now()));
      await s.audit.record({ ...requestAudit(req, res), action: 'D', subtype: 'subscription.delete', organization: sub.organization, entity: { type: 'Subscription', id: sub.id } }, tx);
    });
    res.status(204).end();
  });

  for (const type of ['Encounter', 'Appointment'] as const satisfies readonly TopicResourceType[]) {
    const write = requireScope(s.auth, `system/${type}.write`);
    r.post(`/fhir/${type}`, s.admit.write, write, async (req, res) => {
      const resource = await checkBody(s, type, req.body);
      const { resource: stored } = await writeTopicResource(s, { organization: clientOf(res).organization, resource, id: undefined, audit: requestAudit(req, res) });
      res.setHeader('Location', `${base}/fhir/${type}/${stored.id}/_history/${stored.meta?.versionId ?? '1'}`);
      sendFhir(res, 201, stored);
    });
    r.put(`/fhir/${type}/:id`, s.admit.write, write, async (req, res) => {
      const id = String(req.params.id);
      if (!isFhirId(id)) throw notFound(`No such ${type}`);
      const resource = await checkBody(s, type, req.body);
      if (resource.id !== id) throw badRequest(`The ${type} in the body must have id ${id}, as in the URL`, [`${type}.id`]);
      const { resource: stored } = await writeTopicResource(s, { organization: clientOf(res).organization, resource, id, audit: requestAudit(req, res) });
      sendFhir(res, 200, stored);
    });
    r.get(`/fhir/${type}/:id`, requireScope(s.auth, `system/${type}.read`), async (req, res) => {
      const id = String(req.params.id);
      const organization = clientOf(res).organization;
      const found = isFhirId(id) ? await getResource(s.db, type, id, organization) : undefined;
      if (!found) throw notFound(`No such ${type}`);
      await s.audit.record({ ...requestAudit(req, res), action: 'R', subtype: `${type.toLowerCase()}.read`, organization, entity: { type, id } });
      sendFhir(res, 200, found);
    });
  }

  return r;
}
