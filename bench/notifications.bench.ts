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
import { randomUUID } from 'node:crypto';
import type { Notifier } from '../src/notifications/notifier.js';
import { parseSubscriptionRequest } from '../src/notifications/subscription-request.js';
import { insertSubscription } from '../src/notifications/subscription-store.js';
import { createServices, type Services } from '../src/services.js';
import { buildApp } from '../src/app.js';
import { serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const SEQUENTIAL = 3000;
const BACKLOG = 100_000;
const STEADY_RATE = 100;
const STEADY_SECONDS = 5;
const ORG = 'Bench Clinic';
const NETWORK = 'Bench Network';
const NETWORK_SUBSCRIPTIONS = 1000;
const MATCH_EVENTS = 1000;
const MRN = 'urn:bench:mrn';

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
      for (const m of Buffer.concat(chunks)
        .toString('utf8')
        .matchAll(/"event-number","valueString":"(\d+)"/g))
        arrived.set(Number(m[1]), at);
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

/** One own subscription of the clinic (today's path), or also NETWORK_SUBSCRIPTIONS of the network, each naming one of its patients. */
async function subscribeForMatching(s: Services, withNetwork: boolean): Promise<void> {
  const body = (filters: string[]) => ({
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'bench',
    criteria: TOPICS[0]!.url,
    ...(filters.length ? { _criteria: { extension: filters.map((valueString) => ({ url: BP.filterCriteria, valueString })) } } : {}),
    channel: {
      type: 'rest-hook',
      endpoint: 'https://subscriber.example/hook',
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] },
    },
  });
  const now = new Date();
  await s.db.transaction(async (tx) => {
    const own = parseSubscriptionRequest(body([]), s.fhir, now.getTime());
    await insertSubscription(tx, { id: randomUUID(), organization: ORG, clientId: 'bench', purposes: [], request: own, now, leaseOwner: 'bench' });
    if (!withNetwork) return;
    const network = parseSubscriptionRequest(body([`Encounter?patient.identifier=${MRN}|M0`]), s.fhir, now.getTime());
    for (let i = 0; i < NETWORK_SUBSCRIPTIONS; i++) {
      const request = { ...network, patientKeys: [`${MRN}|M${i}`] };
      await insertSubscription(tx, { id: randomUUID(), organization: NETWORK, clientId: 'bench-network', purposes: ['TREAT'], request, now, leaseOwner: 'bench' });
    }
  });
}

/** Events matched (recorded in the outbox, in their own transaction each) per second, for encounters of the clinic's patients. */
async function matchRate(s: Services, notifier: Notifier): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < MATCH_EVENTS; i++) {
    const encounter = {
      resourceType: 'Encounter' as const,
      id: randomUUID(),
      status: 'arrived' as const,
      class: { code: 'AMB' },
      subject: { reference: `Patient/np${i % NETWORK_SUBSCRIPTIONS}` },
    };
    const written = await s.db.transaction((tx) => notifier.recordChange(tx, { organization: ORG, resource: encounter, occurredAt: new Date() }));
    if (written < 1) throw new Error('an event matched nothing');
  }
  return MATCH_EVENTS / ((performance.now() - t) / 1000);
}

/**
 * Matching cost of cross-organization subscriptions: encounters of a clinic whose patients are
 * each named by one of 1,000 network subscriptions (agreement TREAT), against the same encounters
 * with only the clinic's own subscription (today's single-organization path). Separate databases,
 * so neither sees the other's outbox.
 */
async function networkMatchingRow(): Promise<BenchRow> {
  const clients = [ORG, NETWORK].map((organization, i) => ({ clientId: `bench-${i}`, organization, jwksUri: 'https://keys.example/jwks', scopes: [] }));
  const trust = trustFileSchema.parse({ clients, dataSharing: [{ from: ORG, to: NETWORK, purposes: ['TREAT'] }] });
  const rates: number[] = [];
  for (const withNetwork of [false, true]) {
    const config = { ...loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' }), trust };
    const s = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent') });
    try {
      await s.db.query(
        `INSERT INTO fhir_resource (resource_type, id, organization, content)
         SELECT 'Patient', 'np' || g, $1, jsonb_build_object('resourceType', 'Patient', 'id', 'np' || g, 'identifier', jsonb_build_array(jsonb_build_object('system', $2::text, 'value', 'M' || g)))
           FROM generate_series(0, $3::int - 1) AS g`,
        [ORG, MRN, NETWORK_SUBSCRIPTIONS],
      );
      await subscribeForMatching(s, withNetwork);
      rates.push(await matchRate(s, createNotifier(s)));
    } finally {
      await s.db.close();
    }
  }
  const [floor, ours] = rates as [number, number];
  return {
    name: `events matched/s, ${NETWORK_SUBSCRIPTIONS} network subscriptions (one patient each) on one clinic (vs the clinic's own subscription only)`,
    value: ours,
    floor,
    unit: 'events/s',
    higherIsBetter: true,
    goal: '>= 0.5',
    note: 'each event also reaches one network subscription, found through the patient-identifier index; PGlite, one transaction per event',
  };
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
          {
            publicBaseUrl: config.publicBaseUrl,
            subscriptionId: sub.id,
            topic: TOPICS[0]!.url,
            status: 'active',
            type: 'event-notification',
            eventsSinceStart: 1,
            payload: 'id-only',
            events: [
              {
                eventNumber: 1,
                state: 'pending',
                attempts: 0,
                nextAttemptAt: new Date(),
                deadlineAt: new Date(),
                topic: TOPICS[0]!.url,
                focusType: 'Encounter',
                focusId: 'bench',
                interaction: 'update',
                occurredAt: new Date(),
                resource: undefined,
                organization: ORG,
                disclosure: undefined,
              },
            ],
          },
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
        await networkMatchingRow(),
        {
          name: 'deliveries/s, one subscription, sequential (vs bare undici POST loop)',
          value: oursRps,
          floor: floorRps,
          unit: 'POST/s',
          higherIsBetter: true,
          goal: '>= 0.5',
          note: `id-only, one event per notification, PGlite; the guarded fetch alone does ${Math.round(guardedRps)} POST/s (${(guardedRps / floorRps).toFixed(2)}x)`,
        },
        {
          name: `event→delivery at ${STEADY_RATE} events/s (p50)`,
          value: percentile(latencies, 0.5),
          floor: floorLatency,
          unit: 'ms',
          higherIsBetter: false,
          note: `p99 ${percentile(latencies, 0.99).toFixed(1)} ms; floor: one bare POST round trip; includes storing the Encounter`,
        },
        {
          name: `drain a ${BACKLOG / 1000}k-event backlog after an outage`,
          value: drainSeconds,
          floor: BACKLOG / floorRps,
          unit: 's',
          higherIsBetter: false,
          note: `${Math.round(BACKLOG / drainSeconds)} events/s; floor: the bare loop's time for as many POSTs`,
        },
      ];
    } finally {
      await gw.close();
      await sink.close();
      await s.db.close();
    }
  },
};
