import type { Services } from '../services.js';
import { postNotification, type Channel } from './delivery.js';
import { notificationMetrics } from './metrics.js';
import { notificationBundle } from './notification-bundle.js';
import { finishHandshake, type StoredSubscription, type SubscriptionStatus } from './subscription-store.js';

export type NotifierDeps = Pick<Services, 'db' | 'clock' | 'fetch' | 'log' | 'metrics' | 'audit' | 'config'>;

export function channelOf(sub: StoredSubscription): Channel {
  return { endpoint: sub.endpoint, headers: sub.headers, contentType: sub.contentType, timeoutSeconds: sub.timeoutSeconds };
}

/**
 * The rest-hook handshake (Backport IG: requested → handshake POST → active on 2xx, error on any
 * failure). The caller holds the subscription's lease as `owner`; finishing releases it.
 */
export async function handshake(d: NotifierDeps, sub: StoredSubscription, owner: string): Promise<SubscriptionStatus> {
  const bundle = notificationBundle(
    {
      publicBaseUrl: d.config.publicBaseUrl,
      subscriptionId: sub.id,
      topic: sub.topic,
      status: 'requested',
      type: 'handshake',
      eventsSinceStart: sub.eventCount,
      payload: sub.payload,
      events: [],
    },
    new Date(d.clock.now()),
  );
  const attempt = await postNotification(d.fetch, channelOf(sub), bundle, () => d.clock.now());
  notificationMetrics(d.metrics.registry, d.db).attempts.inc({ kind: 'handshake', result: attempt.kind });
  const status = await finishHandshake(
    d.db,
    sub.id,
    owner,
    attempt.kind === 'delivered' ? { ok: true, at: new Date(d.clock.now()) } : { ok: false, error: { code: attempt.error.code, text: `handshake failed: ${attempt.error.text}` } },
  );
  d.log.info({ subscription: sub.id, result: attempt.kind, status }, 'subscription handshake');
  return status ?? sub.status;
}
