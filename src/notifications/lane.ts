import { performance } from 'node:perf_hooks';
import type { AuditActor } from '../audit/audit.js';
import { MAX_REJECTED_ATTEMPTS, postNotification, retryDelayMs, type Attempt, type DeliveryError } from './delivery.js';
import { disclosureAudit, isDisclosure } from './disclosure-audit.js';
import { channelOf, handshake, type NotifierDeps } from './handshake.js';
import { notificationMetrics, type NotificationMetrics } from './metrics.js';
import { notificationBundle, type NotificationType } from './notification-bundle.js';
import { markDelivered, markFailed, markRetry, pendingEvents, type OutboxEvent } from './outbox.js';
import { LEASE_SLACK_SECONDS, recordError, releaseLease, renewLease, touchNotified, type StoredSubscription } from './subscription-store.js';

const WORKER: AuditActor = { kind: 'system', id: 'notification-worker' };
/** Events read per query, and deliveries recorded per write at most. */
const BATCH = 200;
/**
 * The lease lasts timeout + LEASE_SLACK_SECONDS from its renewal. An attempt may start only while
 * at least timeout + 1 s of it remains, so it is renewed once this long has passed since.
 */
const RENEW_AFTER_MS = (LEASE_SLACK_SECONDS - 1) * 1000;

/**
 * Delivers one claimed subscription's due work while holding its lease: a pending handshake, or
 * its undelivered events strictly in event order (an event is sent only once every earlier one is
 * delivered or settled as failed), or a heartbeat when it has nothing to send. Deliveries are
 * recorded in batches together with the lease renewal; if the process dies first they are sent
 * again (at-least-once, which subscribers handle by event number).
 */
export class Lane {
  private readonly metrics: NotificationMetrics;
  private readonly recorded: { eventNumber: number; at: Date; event: OutboxEvent }[] = [];
  private renewedAt: number;
  private eventCount: number;
  private sawPending = false;

  constructor(
    private readonly d: NotifierDeps,
    private readonly sub: StoredSubscription,
    private readonly owner: string,
    /** performance.now() just before the claim that leased the subscription was sent. */
    leasedAt: number,
    private readonly stopping: () => boolean,
  ) {
    this.metrics = notificationMetrics(d.metrics.registry, d.db);
    this.renewedAt = leasedAt;
    this.eventCount = sub.eventCount;
  }

  async run(): Promise<void> {
    if (this.sub.status === 'requested') {
      await handshake(this.d, this.sub, this.owner);
      return;
    }
    let released = false;
    try {
      const attempted = await this.deliverPending();
      if (attempted === 0 && !this.sawPending && this.heartbeatDue()) await this.heartbeat();
      released = await this.sync(true, true);
    } finally {
      if (!released) await releaseLease(this.d.db, this.sub.id, this.owner).catch(() => undefined);
    }
  }

  private now(): Date {
    return new Date(this.d.clock.now());
  }

  private heartbeatDue(): boolean {
    const period = this.sub.heartbeatSeconds;
    const since = this.sub.lastNotifiedAt ?? this.sub.createdAt;
    return period !== undefined && since.getTime() + period * 1000 <= this.d.clock.now();
  }

  /**
   * Records deliveries made so far and renews the lease when the next attempt could outlive it
   * (or always, when forced; `release` gives it back instead). False when the lease is gone or the
   * subscription is no longer active: the lane must stop.
   */
  private async sync(force: boolean, release = false): Promise<boolean> {
    if (!force && performance.now() - this.renewedAt < RENEW_AFTER_MS && this.recorded.length < BATCH) return true;
    const sentAt = performance.now();
    const batch = this.recorded.splice(0);
    const last = batch.at(-1);
    const progress = { notifiedAt: last?.at, clearError: batch.length > 0, release };
    if (!last) return this.renewed(await renewLease(this.d.db, this.sub.id, this.owner, progress), sentAt);
    const count = await this.d.db.transaction(async (tx) => {
      const c = await renewLease(tx, this.sub.id, this.owner, progress);
      await markDelivered(tx, this.sub.id, batch);
      await this.d.audit.record(
        {
          action: 'E',
          subtype: 'notification.deliver',
          actor: WORKER,
          organization: this.sub.organization,
          entity: { type: 'Subscription', id: this.sub.id },
          detail: { events: `${batch[0]?.eventNumber}-${last.eventNumber}`, count: batch.length, payload: this.sub.payload },
        },
        tx,
      );
      for (const { event } of batch) {
        if (isDisclosure(event)) await this.d.audit.record(disclosureAudit(event, this.sub, { actor: WORKER, subtype: 'disclosure.notification' }), tx);
      }
      return c;
    });
    return this.renewed(count, sentAt);
  }

  private renewed(eventCount: number | undefined, sentAt: number): boolean {
    if (eventCount === undefined) return false;
    this.renewedAt = sentAt;
    this.eventCount = eventCount;
    return true;
  }

  private bundle(type: NotificationType, events: readonly OutboxEvent[]) {
    return notificationBundle(
      {
        publicBaseUrl: this.d.config.publicBaseUrl,
        subscriptionId: this.sub.id,
        topic: this.sub.topic,
        status: 'active',
        type,
        // Inclusive of this notification's events; a heartbeat reports the current total.
        eventsSinceStart: events.at(-1)?.eventNumber ?? this.eventCount,
        payload: this.sub.payload,
        events,
      },
      this.now(),
    );
  }

  private async post(type: NotificationType, events: readonly OutboxEvent[]): Promise<Attempt> {
    const attempt = await postNotification(this.d.fetch, channelOf(this.sub), this.bundle(type, events), () => this.d.clock.now());
    this.metrics.attempts.inc({ kind: type, result: attempt.kind });
    return attempt;
  }

  /** Returns the number of POSTs made. */
  private async deliverPending(): Promise<number> {
    const size = this.sub.maxCount ?? 1;
    const withResource = this.sub.payload === 'full-resource';
    let attempted = 0;
    let after = 0;
    for (;;) {
      const events = await pendingEvents(this.d.db, this.sub.id, after, BATCH, withResource);
      if (events.length > 0) this.sawPending = true;
      for (let i = 0; i < events.length; i += size) {
        const group = events.slice(i, i + size);
        const head = group[0] as OutboxEvent;
        if (head.nextAttemptAt.getTime() > this.d.clock.now() || this.stopping()) return attempted;
        if (!(await this.sync(false))) return attempted;
        const attempt = await this.post('event-notification', group);
        attempted++;
        const at = this.now();
        if (attempt.kind === 'delivered') {
          for (const e of group) {
            this.recorded.push({ eventNumber: e.eventNumber, at, event: e });
            this.metrics.timeToDelivery.observe(Math.max(0, at.getTime() - e.occurredAt.getTime()) / 1000);
          }
          continue;
        }
        // Earlier deliveries are recorded before this failure, so the record stays in order.
        await this.sync(true);
        if (!(await this.settleFailure(group, attempt, at))) return attempted;
      }
      if (events.length < BATCH) return attempted;
      after = (events.at(-1) as OutboxEvent).eventNumber;
    }
  }

  /**
   * What a failed attempt means for its events: past the deadline they fail and the subscription
   * goes to error (its endpoint has been failing for a day, or was never retried in time); a
   * rejection repeated MAX_REJECTED_ATTEMPTS times fails only those events; otherwise they wait
   * for a retry with backoff (or the endpoint's Retry-After). Returns whether to go on with the
   * next events.
   */
  private async settleFailure(group: OutboxEvent[], attempt: Exclude<Attempt, { kind: 'delivered' }>, at: Date): Promise<boolean> {
    const head = group[0] as OutboxEvent;
    const numbers = group.map((e) => e.eventNumber);
    const attempts = head.attempts + 1;
    const why = attempt.error.text;
    const log = { subscription: this.sub.id, event: head.eventNumber, attempts, reason: why };
    if (attempt.kind === 'blocked') {
      await recordError(this.d.db, this.sub.id, attempt.error, true);
      this.d.log.warn(log, 'subscription endpoint refused by the outbound guard; status error');
      return false;
    }
    if (at.getTime() >= head.deadlineAt.getTime()) {
      const expired = group.filter((e) => at.getTime() >= e.deadlineAt.getTime()).map((e) => e.eventNumber);
      const error: DeliveryError = {
        code: attempt.error.code,
        text: `event ${head.eventNumber} was not delivered by its deadline ${head.deadlineAt.toISOString()} after ${attempts} attempts: ${why}`,
      };
      await this.d.db.transaction(async (tx) => {
        await recordError(tx, this.sub.id, error, true);
        await markFailed(tx, this.sub.id, expired, `deadline passed: ${why}`);
      });
      this.d.log.warn(log, 'notification failed past its deadline; subscription status error');
      return false;
    }
    if (attempt.kind === 'rejected' && attempts >= MAX_REJECTED_ATTEMPTS) {
      await this.d.db.transaction(async (tx) => {
        await recordError(tx, this.sub.id, { code: attempt.error.code, text: `event ${head.eventNumber} rejected by the endpoint: ${why}` }, false);
        await markFailed(tx, this.sub.id, numbers, `rejected: ${why}`);
      });
      this.d.log.warn(log, 'notification rejected by the endpoint; event failed');
      return true;
    }
    const delay = retryDelayMs(attempts, attempt.kind === 'retry' ? attempt.retryAfterMs : undefined);
    await this.d.db.transaction(async (tx) => {
      await recordError(tx, this.sub.id, attempt.error, false);
      await markRetry(tx, this.sub.id, numbers, new Date(at.getTime() + delay), why);
    });
    this.d.log.info({ ...log, retryInMs: delay }, 'notification delivery failed; will retry');
    return false;
  }

  private async heartbeat(): Promise<void> {
    if (!(await this.sync(true))) return;
    const attempt = await this.post('heartbeat', []);
    await touchNotified(this.d.db, this.sub.id, this.now());
    if (attempt.kind !== 'delivered') {
      await recordError(this.d.db, this.sub.id, { code: attempt.error.code, text: `heartbeat failed: ${attempt.error.text}` }, false);
    }
  }
}
