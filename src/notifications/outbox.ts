import type { Appointment, Encounter, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.js';
import { patientConsents } from '../consent/consent-store.js';
import { PATIENT_REQUEST, type PurposeOfUse } from '../identity/purpose-of-use.js';
import type { Agreements } from '../sharing/agreements.js';
import { disclosureContext, findEventPatient, type DisclosureContext, type EventPatient } from './event-subject.js';
import { matchesFilters, type Filter, type TopicResource } from './filters.js';
import { topicsFiredBy } from './topics.js';

/** Every event must reach its subscriber within a day of happening; after that it is late or failed. */
export const EVENT_DEADLINE_MS = 24 * 60 * 60 * 1000;

export interface ResourceChange {
  /** The tenant whose data changed. */
  organization: string;
  resource: TopicResource & { id: string };
  /** The stored version before this change; absent for a create. */
  previous?: TopicResource | undefined;
  occurredAt: Date;
  /** The Patient the resource is about, when the caller has just stored it (check-in); otherwise read by reference. */
  patient?: EventPatient | undefined;
}

interface Candidate {
  id: string;
  topic: string;
  filters: Filter[];
  organization: string;
  purposes: PurposeOfUse[];
}

/** A subscription an event goes to, and the purpose that let it cross organizations (null within one). */
interface Recipient {
  id: string;
  purpose: PurposeOfUse | null;
}

const CANDIDATE_COLUMNS = 's.id, s.topic, s.filters, s.organization, s.purposes';
const LIVE = `s.topic = ANY($2) AND s.status <> 'off' AND (s.end_at IS NULL OR s.end_at > $3)`;

/**
 * The subscriptions that may hear of a change: the organization's own without a patient filter
 * (by its (organization, topic) index), and those naming one of the patient's identifiers (by the
 * subscription_patient index). Nothing else is read, however many subscriptions exist.
 */
async function candidatesFor(tx: Queryable, change: ResourceChange, topics: string[], patient: EventPatient | undefined): Promise<Candidate[]> {
  // One statement either way: each costs a round trip, and on PGlite several WebAssembly calls on the event loop.
  const own = `SELECT ${CANDIDATE_COLUMNS} FROM subscription s WHERE s.organization = $1 AND ${LIVE} AND s.patient_keys = '[]'::jsonb`;
  if (!patient?.keys.length) return (await tx.query<Candidate>(own, [change.organization, topics, change.occurredAt])).rows;
  const named = `SELECT DISTINCT ${CANDIDATE_COLUMNS} FROM subscription_patient sp JOIN subscription s ON s.id = sp.subscription_id
      WHERE sp.patient_key = ANY($4) AND ${LIVE}`;
  return (await tx.query<Candidate>(`${own} UNION ALL (${named})`, [change.organization, topics, change.occurredAt, patient.keys])).rows;
}

/**
 * Why a patient-filtered subscription of another organization may hear of the patient: an
 * agreement of the source granting one of its purposes, else (PATRQT) the patient's active
 * Consent naming its organization. Undefined: it may not.
 */
async function grantFor(tx: Queryable, agreements: Agreements, change: ResourceChange, c: Candidate, patient: EventPatient | undefined): Promise<PurposeOfUse | null | undefined> {
  if (c.organization === change.organization) return null;
  if (!patient) return undefined;
  const agreed = agreements.grant(change.organization, c.organization, c.purposes);
  if (agreed) return agreed;
  if (!c.purposes.includes(PATIENT_REQUEST) || !patient.issuer || !patient.subject) return undefined;
  return (await patientConsents(tx, patient.issuer, patient.subject, c.organization)) ? PATIENT_REQUEST : undefined;
}

/**
 * Records the notification events one resource change causes, inside the caller's transaction
 * (the transactional outbox): for each topic the change fires, each live subscription that may
 * hear of it (its own organization's, or another's granted by agreement or consent for the named
 * patient) and whose filters match gets an outbox row with its next event number. Numbers are
 * taken under the subscription row's lock and commit or roll back with the change, so they are
 * gapless and never reused. Returns the number of outbox rows written.
 */
export async function recordResourceChange(tx: Queryable, agreements: Agreements, change: ResourceChange): Promise<number> {
  const fired = topicsFiredBy(change.previous, change.resource);
  if (fired.length === 0) return 0;
  const patient = change.patient ?? (await findEventPatient(tx, change.organization, change.resource));
  const candidates = await candidatesFor(
    tx,
    change,
    fired.map((t) => t.url),
    patient,
  );
  const granted = new Map<string, PurposeOfUse | null>();
  for (const c of candidates) {
    if (granted.has(c.id)) continue;
    const purpose = await grantFor(tx, agreements, change, c, patient);
    if (purpose !== undefined) granted.set(c.id, purpose);
  }
  let written = 0;
  for (const topic of fired) {
    const recipients = new Map<string, Recipient>();
    for (const c of candidates) {
      const purpose = granted.get(c.id);
      if (c.topic !== topic.url || purpose === undefined || !matchesFilters(change.resource, c.filters, topic.canFilterBy)) continue;
      recipients.set(c.id, { id: c.id, purpose });
    }
    if (recipients.size === 0) continue;
    written += await insertEvent(tx, change, topic.url, [...recipients.values()], patient);
  }
  return written;
}

async function insertEvent(tx: Queryable, change: ResourceChange, topic: string, recipients: Recipient[], patient: EventPatient | undefined): Promise<number> {
  const sorted = [...recipients].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = sorted.map((r) => r.id);
  const context = patient && sorted.some((r) => r.purpose !== null) ? disclosureContext(change.organization, patient, change.resource) : null;
  // In id order, so concurrent changes matching the same subscriptions cannot deadlock.
  await tx.query(`SELECT id FROM subscription WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
  const { rowCount } = await tx.query(
    `WITH ev AS (
       INSERT INTO notification_event (organization, topic, focus_type, focus_id, interaction, resource, occurred_at, patient_id, patient_issuer, patient_subject, context)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $11, $12, $13, $14) RETURNING id
     ), m AS (
       SELECT * FROM unnest($8::text[], $9::text[]) AS m(id, purpose)
     ), numbered AS (
       UPDATE subscription s SET event_count = s.event_count + 1 FROM m WHERE s.id = m.id AND s.status <> 'off' RETURNING s.id, s.event_count, m.purpose
     )
     INSERT INTO outbox (subscription_id, event_number, event_id, next_attempt_at, deadline_at, purpose)
     SELECT numbered.id, numbered.event_count, ev.id, $7, $10, numbered.purpose FROM numbered CROSS JOIN ev`,
    [
      change.organization,
      topic,
      change.resource.resourceType,
      change.resource.id,
      change.previous ? 'update' : 'create',
      JSON.stringify(change.resource),
      change.occurredAt,
      ids,
      sorted.map((r) => r.purpose),
      new Date(change.occurredAt.getTime() + EVENT_DEADLINE_MS),
      patient?.id ?? null,
      patient?.issuer ?? null,
      patient?.subject ?? null,
      context ? JSON.stringify(context) : null,
    ],
  );
  return rowCount;
}

export interface OutboxEvent {
  eventNumber: number;
  state: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  nextAttemptAt: Date;
  deadlineAt: Date;
  topic: string;
  focusType: string;
  focusId: string;
  interaction: 'create' | 'update';
  occurredAt: Date;
  /** Only loaded when the payload needs it. */
  resource: (Encounter | Appointment | Resource) | undefined;
  /** The organization whose data it is. */
  organization: string;
  /** Set when the event went to another organization: the purpose that allowed it, and what it was told. */
  disclosure: { purpose: PurposeOfUse; patientId: string; patientIssuer: string | undefined; patientSubject: string | undefined; context: DisclosureContext } | undefined;
}

interface OutboxEventRow {
  event_number: number;
  state: OutboxEvent['state'];
  attempts: number;
  next_attempt_at: Date;
  deadline_at: Date;
  topic: string;
  focus_type: string;
  focus_id: string;
  interaction: 'create' | 'update';
  occurred_at: Date;
  resource: Resource | null;
  organization: string;
  purpose: PurposeOfUse | null;
  patient_id: string | null;
  patient_issuer: string | null;
  patient_subject: string | null;
  context: DisclosureContext | null;
}

// A cancelled event (its consent revoked) is never told again, not even by a $events replay.
const EVENT_COLUMNS = `o.event_number, o.state, o.attempts, o.next_attempt_at, o.deadline_at, e.topic, e.focus_type, e.focus_id,
  e.interaction, e.occurred_at, CASE WHEN $2 AND o.state <> 'cancelled' THEN e.resource END AS resource, e.organization, o.purpose,
  e.patient_id, e.patient_issuer, e.patient_subject, CASE WHEN o.purpose IS NOT NULL AND o.state <> 'cancelled' THEN e.context END AS context`;

function toEvent(r: OutboxEventRow): OutboxEvent {
  return {
    eventNumber: Number(r.event_number),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    deadlineAt: r.deadline_at,
    topic: r.topic,
    focusType: r.focus_type,
    focusId: r.focus_id,
    interaction: r.interaction,
    occurredAt: r.occurred_at,
    resource: r.resource ?? undefined,
    organization: r.organization,
    disclosure:
      r.purpose && r.context && r.patient_id
        ? { purpose: r.purpose, patientId: r.patient_id, patientIssuer: r.patient_issuer ?? undefined, patientSubject: r.patient_subject ?? undefined, context: r.context }
        : undefined,
  };
}

/** The oldest undelivered events of a subscription after event number `after`, in event order. */
export async function pendingEvents(q: Queryable, subscriptionId: string, after: number, limit: number, withResource: boolean): Promise<OutboxEvent[]> {
  const { rows } = await q.query<OutboxEventRow>(
    `SELECT ${EVENT_COLUMNS} FROM outbox o JOIN notification_event e ON e.id = o.event_id
      WHERE o.subscription_id = $1 AND o.state = 'pending' AND o.event_number > $3 ORDER BY o.event_number LIMIT $4`,
    [subscriptionId, withResource, after, limit],
  );
  return rows.map(toEvent);
}

/** Events `from`..`to` (inclusive) of a subscription whatever their state, for $events. */
export async function eventsInRange(q: Queryable, subscriptionId: string, from: number, to: number, limit: number, withResource: boolean): Promise<OutboxEvent[]> {
  const { rows } = await q.query<OutboxEventRow>(
    `SELECT ${EVENT_COLUMNS} FROM outbox o JOIN notification_event e ON e.id = o.event_id
      WHERE o.subscription_id = $1 AND o.event_number BETWEEN $3 AND $4 ORDER BY o.event_number LIMIT $5`,
    [subscriptionId, withResource, from, to, limit],
  );
  return rows.map(toEvent);
}

export async function markDelivered(q: Queryable, subscriptionId: string, deliveries: { eventNumber: number; at: Date }[]): Promise<void> {
  if (deliveries.length === 0) return;
  await q.query(
    `UPDATE outbox o SET state = 'delivered', delivered_at = d.at, attempts = o.attempts + 1, last_error = NULL
       FROM unnest($2::bigint[], $3::timestamptz[]) AS d(n, at)
      WHERE o.subscription_id = $1 AND o.event_number = d.n AND o.state = 'pending'`,
    [subscriptionId, deliveries.map((d) => d.eventNumber), deliveries.map((d) => d.at)],
  );
}

export async function markRetry(q: Queryable, subscriptionId: string, eventNumbers: number[], nextAttemptAt: Date, error: string): Promise<void> {
  await q.query(
    `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4
      WHERE subscription_id = $1 AND event_number = ANY($2::bigint[]) AND state = 'pending'`,
    [subscriptionId, eventNumbers, nextAttemptAt, error],
  );
}

export async function markFailed(q: Queryable, subscriptionId: string, eventNumbers: number[], error: string): Promise<void> {
  await q.query(
    `UPDATE outbox SET attempts = attempts + 1, state = 'failed', last_error = $3
      WHERE subscription_id = $1 AND event_number = ANY($2::bigint[]) AND state = 'pending'`,
    [subscriptionId, eventNumbers, error],
  );
}

export async function cancelPending(tx: Queryable, subscriptionId: string): Promise<void> {
  await tx.query(`UPDATE outbox SET state = 'cancelled' WHERE subscription_id = $1 AND state = 'pending'`, [subscriptionId]);
}

/** Settled events stay this long for $events replays, then go (with the resource copies they hold). */
export const EVENT_RETENTION_DAYS = 30;

/**
 * Housekeeping: events of subscriptions that are not being delivered (status error) that have
 * passed their deadline failed (active subscriptions settle their own as they attempt them); and
 * settled events past retention are deleted. Pending events are never deleted.
 */
export async function sweepOutbox(q: Queryable, now: Date): Promise<void> {
  await q.query(
    `UPDATE outbox o SET state = 'failed', last_error = 'deadline passed while the subscription was in error'
       FROM subscription s
      WHERE s.id = o.subscription_id AND s.status = 'error' AND o.state = 'pending' AND o.deadline_at <= $1`,
    [now],
  );
  await q.query(`DELETE FROM outbox WHERE state <> 'pending' AND deadline_at < $1::timestamptz - make_interval(days => ${EVENT_RETENTION_DAYS})`, [now]);
  await q.query(
    `DELETE FROM notification_event e WHERE e.occurred_at < $1::timestamptz - make_interval(days => ${EVENT_RETENTION_DAYS})
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id)`,
    [now],
  );
}

export interface DeliveryCounts {
  pending: number;
  /** Delivered before the deadline. */
  delivered: number;
  /** Delivered after the deadline. */
  late: number;
  failed: number;
}

export interface SubscriptionDeliveryStats extends DeliveryCounts {
  /** Pending events already past their deadline. */
  overdue: number;
  lastDelivered: { eventNumber: number; at: Date } | undefined;
  /** Event to delivery, seconds, over the delivered events. */
  timeToDelivery: { p50: number; p99: number; max: number } | undefined;
  lastError: string | undefined;
}

const COUNT_COLUMNS = `
  count(*) FILTER (WHERE o.state = 'pending')::int AS pending,
  count(*) FILTER (WHERE o.state = 'delivered' AND o.delivered_at <= o.deadline_at)::int AS delivered,
  count(*) FILTER (WHERE o.state = 'delivered' AND o.delivered_at > o.deadline_at)::int AS late,
  count(*) FILTER (WHERE o.state = 'failed')::int AS failed`;

/** Outbox totals across every subscription (metrics). */
export async function deliveryCounts(q: Queryable): Promise<DeliveryCounts> {
  const { rows } = await q.query<DeliveryCounts>(`SELECT ${COUNT_COLUMNS} FROM outbox o`);
  return rows[0] ?? { pending: 0, delivered: 0, late: 0, failed: 0 };
}

type StatsRow = DeliveryCounts & {
  subscription_id: string;
  overdue: number;
  last_number: number | null;
  last_at: Date | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
  last_error: string | null;
};

const NO_STATS: SubscriptionDeliveryStats = { pending: 0, delivered: 0, late: 0, failed: 0, overdue: 0, lastDelivered: undefined, timeToDelivery: undefined, lastError: undefined };

function statsOf(r: StatsRow): SubscriptionDeliveryStats {
  const { pending, delivered, late, failed, overdue } = r;
  return {
    pending,
    delivered,
    late,
    failed,
    overdue,
    lastDelivered: r.last_number != null && r.last_at ? { eventNumber: Number(r.last_number), at: r.last_at } : undefined,
    timeToDelivery: r.p50 != null ? { p50: Number(r.p50), p99: Number(r.p99), max: Number(r.max) } : undefined,
    lastError: r.last_error ?? undefined,
  };
}

/** Delivery statistics of several subscriptions in one query (the type-level $status lists many). */
export async function subscriptionsStats(q: Queryable, subscriptionIds: string[], now: Date): Promise<Map<string, SubscriptionDeliveryStats>> {
  if (subscriptionIds.length === 0) return new Map();
  const { rows } = await q.query<StatsRow>(
    `SELECT o.subscription_id, ${COUNT_COLUMNS},
       count(*) FILTER (WHERE o.state = 'pending' AND o.deadline_at <= $2)::int AS overdue,
       max(o.event_number) FILTER (WHERE o.state = 'delivered') AS last_number,
       max(o.delivered_at) AS last_at,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.delivered_at - e.occurred_at)) FILTER (WHERE o.state = 'delivered') AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM o.delivered_at - e.occurred_at)) FILTER (WHERE o.state = 'delivered') AS p99,
       max(extract(epoch FROM o.delivered_at - e.occurred_at)) FILTER (WHERE o.state = 'delivered') AS max,
       (SELECT last_error FROM outbox x WHERE x.subscription_id = o.subscription_id AND x.last_error IS NOT NULL ORDER BY x.event_number DESC LIMIT 1) AS last_error
     FROM outbox o JOIN notification_event e ON e.id = o.event_id
     WHERE o.subscription_id = ANY($1::text[])
     GROUP BY o.subscription_id`,
    [subscriptionIds, now],
  );
  const byId = new Map(rows.map((r) => [r.subscription_id, statsOf(r)]));
  return new Map(subscriptionIds.map((id) => [id, byId.get(id) ?? NO_STATS]));
}

export async function subscriptionStats(q: Queryable, subscriptionId: string, now: Date): Promise<SubscriptionDeliveryStats> {
  return (await subscriptionsStats(q, [subscriptionId], now)).get(subscriptionId) ?? NO_STATS;
}

/**
 * A revoked Consent: events about the patient that only the consent let through to `organization`
 * and that are still owed are dropped, so nothing more reaches it.
 */
export async function cancelConsentedEvents(tx: Queryable, organization: string, issuer: string, subject: string): Promise<number> {
  const { rowCount } = await tx.query(
    `UPDATE outbox o SET state = 'cancelled', last_error = 'the patient revoked their consent'
       FROM notification_event e, subscription s
      WHERE o.event_id = e.id AND s.id = o.subscription_id AND o.state = 'pending' AND o.purpose = $4
        AND s.organization = $1 AND e.patient_issuer = $2 AND e.patient_subject = $3`,
    [organization, issuer, subject, PATIENT_REQUEST],
  );
  return rowCount;
}
