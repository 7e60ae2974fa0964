import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import { loadConfig, trustFileSchema } from '../src/config.js';
import type { Db } from '../src/db/db.js';
import { openPglite } from '../src/db/pglite.js';
import { accessTokens } from '../src/identity/access-token.js';
import { createLogger } from '../src/log.js';
import { BP } from '../src/notifications/backport.js';
import { notificationBundle } from '../src/notifications/notification-bundle.js';
import { writeEhrResource } from '../src/ehr/resource-write.js';
import { createNotifier } from '../src/notifications/notifier.js';
import { TOPICS } from '../src/notifications/topics.js';
import { createDeliveryWorker } from '../src/notifications/worker.js';
import { createServices } from '../src/services.js';
import { buildApp } from '../src/app.js';
import { serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const SEQUENTIAL = 3000;
const BACKLOG = 100_000;
const STEADY_RATE = 100;
const STEADY_SECONDS = 5;
const ORG = 'Bench Clinic';

/** A subscriber that answers 200 at once and notes when each event number arrived. */
async function subscriber(): Promise<{ url: string; arrived: Map<number, number>; count: () => number; close: () => Promise<void> }> {
  const arrived = new Map<number, number>();
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      count++;
      for (const m of Buffer.concat(chunks).toString('utf8').matchAll(/"event-number","valueString":"(\d+)"/g)) arrived.set(Number(m[1]), at);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrived,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A backlog of `n` events for one subscription in two statements (all on one focus resource). */
async function insertBacklog(db: Db, subscriptionId: string, n: number): Promise<void> {
  const { rows } = await db.query<{ event_count: number }>('SELECT event_count FROM subscription WHERE id = $1', [subscriptionId]);
  const from = Number(rows[0]?.event_count ?? 0) + 1;
  await db.transaction(async (tx) => {
    await tx.query(
      `WITH ev AS (
         INSERT INTO notification_event (organization, topic, focus_type, focus_id, interaction, resource, occurred_at)
         VALUES ($1, $2, 'Encounter', 'bench', 'update', '{"resourceType":"Encounter","id":"bench","status":"in-progress","class":{"code":"AMB"}}', now()) RETURNING id)
       INSERT INTO outbox (subscription_id, event_number, event_id, next_attempt_at, deadline_at)
       SELECT $3, g, ev.id, now(), now() + interval '24 hours' FROM generate_series($4::bigint, $5::bigint) AS g, ev`,
      [ORG, TOPICS[0]!.url, subscriptionId, from, from + n - 1],
    );
    await tx.query('UPDATE subscription SET event_count = $2 WHERE id = $1', [subscriptionId, from + n - 1]);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/**
 * Outbox delivery through the SSRF-guarded fetch against a bare undici POST loop to the same
 * loopback subscriber: sequential deliveries per second for one subscription, event-to-delivery
 * latency at a steady event rate, and draining a 100k-event backlog after an outage.
 */
export const bench: Bench = {
  name: 'notifications',
  async run(): Promise<BenchRow[]> {
    const sink = await subscriber();
    const config = { ...loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' }), trust: trustFileSchema.parse({ outboundAllowlist: ['127.0.0.1'] }) };
    const s = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent') });
    const gw = await serve(buildApp(s));
    try {
      const token = (await accessTokens(s.keys, config.publicBaseUrl, s.clock).issue({ clientId: 'bench', organization: ORG, scopes: ['system/Subscription.write'] })).token;
      const created = await fetch(`${gw.url}/fhir/Subscription`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'bench',
          criteria: TOPICS[0]!.url,
          channel: { type: 'rest-hook', endpoint: sink.url, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] } },
        }),
      });
      const sub = (await created.json()) as { id: string; status: string };
      if (sub.status !== 'active') throw new Error(`subscription is ${sub.status}`);

      // Floor: the same notification body POSTed in a loop with undici's pooled keep-alive client.
      const sample = JSON.stringify(
        notificationBundle(
          { publicBaseUrl: config.publicBaseUrl, subscriptionId: sub.id, topic: TOPICS[0]!.url, status: 'active', type: 'event-notification', eventsSinceStart: 1, payload: 'id-only',
            events: [{ eventNumber: 1, state: 'pending', attempts: 0, nextAttemptAt: new Date(), deadlineAt: new Date(), topic: TOPICS[0]!.url, focusType: 'Encounter', focusId: 'bench', interaction: 'update', occurredAt: new Date(), resource: undefined, organization: ORG, disclosure: undefined }] },
          new Date(),
        ),
      );
      let t = performance.now();
      for (let i = 0; i < SEQUENTIAL; i++) {
        const r = await undiciRequest(sink.url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: sample });
        await r.body.dump();
      }
      const floorRps = SEQUENTIAL / ((performance.now() - t) / 1000);
      const floorLatency = (performance.now() - t) / SEQUENTIAL;
      // What the SSRF guard alone costs per POST (it opens a connection to the checked address each time).
      t = performance.now();
      for (let i = 0; i < SEQUENTIAL; i++) await s.fetch(sink.url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: sample, maxRedirects: 0 });
      const guardedRps = SEQUENTIAL / ((performance.now() - t) / 1000);

      const worker = createDeliveryWorker(s);
      const notifier = createNotifier(s);
      await insertBacklog(s.db, sub.id, SEQUENTIAL);
      t = performance.now();
      await worker.runOnce();
      const oursRps = SEQUENTIAL / ((performance.now() - t) / 1000);

      // Steady load through the real write path (store Encounter + outbox in one transaction).
      sink.arrived.clear();
      worker.start();
      const emitted = new Map<number, number>();
      const first = (await s.db.query<{ event_count: number }>('SELECT event_count FROM subscription WHERE id = $1', [sub.id])).rows[0]!.event_count;
      const total = STEADY_RATE * STEADY_SECONDS;
      t = performance.now();
      for (let i = 1; i <= total; i++) {
        const due = t + (i * 1000) / STEADY_RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        emitted.set(Number(first) + i, performance.now());
        await writeEhrResource(s, notifier, {
          organization: ORG,
          resource: { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, subject: { reference: `Patient/p${i}` } },
          id: undefined,
          audit: { actor: { kind: 'system', id: 'bench' } },
        });
      }
      while (sink.arrived.size < total) await new Promise((r) => setTimeout(r, 20));
      const latencies = [...emitted].map(([n, at]) => (sink.arrived.get(n) ?? at) - at).sort((a, b) => a - b);
      await worker.stop();

      // Outage, then a 100k backlog to drain.
      await insertBacklog(s.db, sub.id, BACKLOG);
      const drainWorker = createDeliveryWorker(s);
      t = performance.now();
      await drainWorker.runOnce();
      const drainSeconds = (performance.now() - t) / 1000;
      const { rows } = await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'`);
      if (rows[0]!.n !== 0) throw new Error(`${rows[0]!.n} events left undelivered`);

      return [
        { name: 'deliveries/s, one subscription, sequential (vs bare undici POST loop)', value: oursRps, floor: floorRps, unit: 'POST/s', higherIsBetter: true, goal: '>= 0.5',
          note: `id-only, one event per notification, PGlite; the guarded fetch alone does ${Math.round(guardedRps)} POST/s (${(guardedRps / floorRps).toFixed(2)}x)` },
        {
          name: `event→delivery at ${STEADY_RATE} events/s (p50)`,
          value: percentile(latencies, 0.5),
          floor: floorLatency,
          unit: 'ms',
          higherIsBetter: false,
          note: `p99 ${percentile(latencies, 0.99).toFixed(1)} ms; floor: one bare POST round trip; includes storing the Encounter`,
        },
        { name: `drain a ${BACKLOG / 1000}k-event backlog after an outage`, value: drainSeconds, floor: BACKLOG / floorRps, unit: 's', higherIsBetter: false, note: `${Math.round(BACKLOG / drainSeconds)} events/s; floor: the bare loop's time for as many POSTs` },
      ];
    } finally {
      await gw.close();
      await sink.close();
      await s.db.close();
    }
  },
};
