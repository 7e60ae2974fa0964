import type { Subscription } from '@medplum/fhirtypes';
import { camelRow } from '../db/camel-row.js';
import type { Queryable } from '../db/db.js';
import type { PurposeOfUse } from '../identity/purpose-of-use.js';
import type { PayloadContent, SubscriptionErrorCode } from './backport.js';
import type { Filter } from './filters.js';
import { cancelPending } from './outbox.js';
import type { SubscriptionRequest } from './subscription-request.js';

export type SubscriptionStatus = 'requested' | 'active' | 'error' | 'off';

/** What was asked for (topic kept as its canonical URL), plus the subscription's life so far. */
export interface StoredSubscription extends Omit<SubscriptionRequest, 'topic'> {
  id: string;
  organization: string;
  clientId: string;
  topic: string;
  /** The purposes of use its token carried; none = the organization's own events only. */
  purposes: PurposeOfUse[];
  status: SubscriptionStatus;
  eventCount: number;
  error: { code: SubscriptionErrorCode; text: string } | undefined;
  lastNotifiedAt: Date | undefined;
  createdAt: Date;
  deletedAt: Date | undefined;
}

interface Row {
  id: string;
  organization: string;
  client_id: string;
  topic: string;
  status: SubscriptionStatus;
  filters: Filter[];
  purposes: PurposeOfUse[];
  patient_keys: string[];
  endpoint: string;
  headers: string[];
  content_type: string;
  payload: PayloadContent;
  heartbeat_seconds: number | null;
  timeout_seconds: number;
  max_count: number | null;
  end_at: Date | null;
  resource: Subscription;
  event_count: number;
  error_code: SubscriptionErrorCode | null;
  error: string | null;
  last_notified_at: Date | null;
  created_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = `id, organization, client_id, topic, status, filters, purposes, patient_keys, endpoint, headers, content_type, payload, heartbeat_seconds,
  timeout_seconds, max_count, end_at, resource, event_count, error_code, error, last_notified_at, created_at, deleted_at`;

function fromRow({ heartbeat_seconds, max_count, end_at, event_count, error_code, error, last_notified_at, deleted_at, ...columns }: Row): StoredSubscription {
  return {
    ...camelRow(columns),
    heartbeatSeconds: heartbeat_seconds ?? undefined,
    maxCount: max_count ?? undefined,
    end: end_at ?? undefined,
    eventCount: Number(event_count),
    error: error_code && error ? { code: error_code, text: error } : undefined,
    lastNotifiedAt: last_notified_at ?? undefined,
    deletedAt: deleted_at ?? undefined,
  };
}

/**
 * The delivery lease lasts one attempt's timeout plus this much, measured on the database clock.
 * A holder renews it before any attempt that could outlive it, so a lease only lapses when its
 * holder has died (or lost the database), and a successor waits at most this long past the timeout.
 */
export const LEASE_SLACK_SECONDS = 2;

/** Stores a new subscription as requested, leased to `leaseOwner` for its handshake. */
export async function insertSubscription(
  q: Queryable,
  s: { id: string; organization: string; clientId: string; purposes: readonly PurposeOfUse[]; request: SubscriptionRequest; now: Date; leaseOwner: string },
): Promise<StoredSubscription> {
  const r = s.request;
  const { rows } = await q.query<Row>(
    `INSERT INTO subscription (id, organization, client_id, topic, status, filters, endpoint, headers, content_type, payload,
       heartbeat_seconds, timeout_seconds, max_count, end_at, resource, created_at, lease_owner, lease_until, purposes, patient_keys)
     VALUES ($1, $2, $3, $4, 'requested', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
       clock_timestamp() + make_interval(secs => $11::int + ${LEASE_SLACK_SECONDS}), $17, $18)
     RETURNING ${COLUMNS}`,
    [
      s.id,
      s.organization,
      s.clientId,
      r.topic.url,
      JSON.stringify(r.filters),
      r.endpoint,
      JSON.stringify(r.headers),
      r.contentType,
      r.payload,
      r.heartbeatSeconds ?? null,
      r.timeoutSeconds,
      r.maxCount ?? null,
      r.end ?? null,
      JSON.stringify(r.resource),
      s.now,
      s.leaseOwner,
      JSON.stringify(s.purposes),
      JSON.stringify(r.patientKeys),
    ],
  );
  if (r.patientKeys.length) {
    await q.query(`INSERT INTO subscription_patient (patient_key, subscription_id) SELECT k, $2 FROM unnest($1::text[]) AS k`, [r.patientKeys, s.id]);
  }
  return fromRow(rows[0] as Row);
}

/** A subscription of one organization (deleted ones included, so reads can say 410). */
export async function getSubscription(q: Queryable, id: string, organization: string): Promise<StoredSubscription | undefined> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM subscription WHERE id = $1 AND organization = $2`, [id, organization]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listSubscriptions(q: Queryable, organization: string, statuses: string[] | undefined): Promise<StoredSubscription[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS} FROM subscription WHERE organization = $1 AND deleted_at IS NULL AND ($2::text[] IS NULL OR status = ANY($2))
      ORDER BY created_at, id`,
    [organization, statuses ?? null],
  );
  return rows.map(fromRow);
}

/** Unsubscribes: status off, and events still owed are dropped. False when there was nothing to delete. */
export async function deleteSubscription(tx: Queryable, id: string, organization: string, now: Date): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE subscription SET status = 'off', deleted_at = $3, lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND organization = $2 AND deleted_at IS NULL`,
    [id, organization, now],
  );
  if (rowCount === 0) return false;
  await tx.query(`DELETE FROM subscription_patient WHERE subscription_id = $1`, [id]);
  await cancelPending(tx, id);
  return true;
}

/**
 * Claims up to `limit` subscriptions with due work and no live lease, leasing them to `owner`.
 * Due work: a handshake nobody finished, the first undelivered event once its retry time has
 * come, or a heartbeat when idle. Rows being claimed (or numbered by an event) by someone else
 * are skipped, so any number of replicas can run this concurrently.
 */
export async function claimDue(q: Queryable, owner: string, now: Date, limit: number): Promise<StoredSubscription[]> {
  const { rows } = await q.query<Row>(
    `UPDATE subscription s SET lease_owner = $1, lease_until = clock_timestamp() + make_interval(secs => s.timeout_seconds + ${LEASE_SLACK_SECONDS})
      WHERE s.id IN (
        SELECT c.id FROM subscription c
         WHERE (c.lease_until IS NULL OR c.lease_until < clock_timestamp())
           AND (c.end_at IS NULL OR c.end_at > $2)
           AND (c.status = 'requested'
             OR (c.status = 'active' AND (
                  (SELECT o.next_attempt_at FROM outbox o WHERE o.subscription_id = c.id AND o.state = 'pending'
                    ORDER BY o.event_number LIMIT 1) <= $2
               OR (c.heartbeat_seconds IS NOT NULL
                   AND coalesce(c.last_notified_at, c.created_at) + make_interval(secs => c.heartbeat_seconds) <= $2
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subscription_id = c.id AND o.state = 'pending')))))
         ORDER BY c.last_notified_at NULLS FIRST
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS.split(',')
        .map((c) => `s.${c.trim()}`)
        .join(', ')}`,
    [owner, now, limit],
  );
  return rows.map(fromRow);
}

/**
 * Extends the lease for another attempt (or releases it) and records progress. Returns the
 * subscription's event count, or undefined when the lease is no longer ours or the subscription
 * stopped being active (deleted, errored): the holder must stop.
 */
export async function renewLease(
  q: Queryable,
  id: string,
  owner: string,
  progress: { notifiedAt: Date | undefined; clearError: boolean; release: boolean },
): Promise<number | undefined> {
  const { rows } = await q.query<{ event_count: number }>(
    `UPDATE subscription SET
       lease_owner = CASE WHEN $5 THEN NULL ELSE lease_owner END,
       lease_until = CASE WHEN $5 THEN NULL ELSE clock_timestamp() + make_interval(secs => timeout_seconds + ${LEASE_SLACK_SECONDS}) END,
       last_notified_at = coalesce($3, last_notified_at),
       error_code = CASE WHEN $4 THEN NULL ELSE error_code END,
       error = CASE WHEN $4 THEN NULL ELSE error END
      WHERE id = $1 AND lease_owner = $2 AND status = 'active'
      RETURNING event_count`,
    [id, owner, progress.notifiedAt ?? null, progress.clearError, progress.release],
  );
  return rows[0] ? Number(rows[0].event_count) : undefined;
}

export async function releaseLease(q: Queryable, id: string, owner: string): Promise<void> {
  await q.query(`UPDATE subscription SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
}

/** The handshake's outcome: requested → active, or → error with the reason. */
export async function finishHandshake(
  q: Queryable,
  id: string,
  owner: string,
  result: { ok: true; at: Date } | { ok: false; error: { code: SubscriptionErrorCode; text: string } },
): Promise<SubscriptionStatus | undefined> {
  const { rows } = await q.query<{ status: SubscriptionStatus }>(
    `UPDATE subscription SET status = $3, error_code = $4, error = $5, last_notified_at = coalesce($6, last_notified_at),
       lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2 AND status = 'requested'
      RETURNING status`,
    result.ok ? [id, owner, 'active', null, null, result.at] : [id, owner, 'error', result.error.code, result.error.text, null],
  );
  return rows[0]?.status;
}

/** Records a delivery problem; `toError` also stops delivery (status error) until the client acts. */
export async function recordError(q: Queryable, id: string, error: { code: SubscriptionErrorCode; text: string }, toError: boolean): Promise<void> {
  await q.query(
    `UPDATE subscription SET error_code = $2, error = $3, status = CASE WHEN $4 AND status = 'active' THEN 'error' ELSE status END
      WHERE id = $1`,
    [id, error.code, error.text, toError],
  );
}

export async function touchNotified(q: Queryable, id: string, at: Date): Promise<void> {
  await q.query(`UPDATE subscription SET last_notified_at = $2 WHERE id = $1`, [id, at]);
}
