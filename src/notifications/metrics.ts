import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Queryable } from '../db/db.js';
import { metricsOnce } from '../ops/metrics.js';
import { deliveryCounts } from './outbox.js';

export interface NotificationMetrics {
  /** POSTs to subscriber endpoints by kind (handshake, heartbeat, event-notification) and result. */
  attempts: Counter<'kind' | 'result'>;
  /** Event to successful delivery, as seen by the replica that delivered it. */
  timeToDelivery: Histogram;
}

/**
 * The notification metrics of one gateway instance (routes and the worker share them). Event counts
 * by state come from the outbox at scrape time, so every replica reports the same totals whichever
 * of them did the work. A registry belongs to one instance, so to one database: asking with another
 * is a wiring fault, refused rather than answered from the first database.
 */
export function notificationMetrics(registry: Registry, db: Queryable): NotificationMetrics {
  const entry = metricsOnce(registry, 'notifications', () => ({ db, metrics: create(registry, db) }));
  if (entry.db !== db) throw new Error('This metrics registry already reports the notifications of another database');
  return entry.metrics;
}

function create(registry: Registry, db: Queryable): NotificationMetrics {
  new Gauge({
    name: 'notifications_events',
    help: 'Notification events in the outbox by state: pending, delivered (on time), late (delivered after the 24 h deadline), failed',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const c = await deliveryCounts(db);
        for (const [state, n] of Object.entries(c)) this.set({ state }, n);
      } catch {
        // The database is unreachable: keep the last figures; /ready reports the outage.
      }
    },
  });
  return {
    attempts: new Counter({
      name: 'notifications_delivery_attempts_total',
      help: 'POSTs to subscriber endpoints by notification kind and result (delivered, retry, rejected, blocked)',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    timeToDelivery: new Histogram({
      name: 'notifications_time_to_delivery_seconds',
      help: 'Time from an event to its successful delivery',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400],
      registers: [registry],
    }),
  };
}
