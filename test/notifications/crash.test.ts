import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { systemClock } from '../../src/clock.js';
import { openPostgres } from '../../src/db/postgres.js';
import { accessTokens } from '../../src/identity/access-token.js';
import { KeyStore } from '../../src/keys/keystore.js';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { startChildGateway, type ChildGateway } from '../helpers/child-gateway.js';
import { TEST_DATABASE_URL, createPostgresDatabase } from '../helpers/db.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';

/**
 * Crash safety with the real process: kill -9 gateways (and restart PostgreSQL once) in the middle
 * of a stream of encounter events, and check every event still reaches the subscriber, numbered
 * 1..N without gaps, never two at once for one subscription, never one before an earlier one.
 */

const PUBLIC_BASE_URL = 'http://gateway.test';
const EVENTS = 1000;
const CLIENT = { clientId: 'ehr-crash', organization: 'Crash Clinic', scopes: ['system/Subscription.write', 'system/Subscription.read', 'system/Encounter.write'] };
/** An aligned network of another organization, sharing by agreement, subscribed to one patient of the clinic. */
const NETWORK = { clientId: 'network-crash', organization: 'Crash Network', scopes: ['system/Subscription.write'], purposes: ['TREAT' as const] };
const NETWORK_PATIENT = { id: 'p-net', system: 'urn:crash:mrn', value: 'NET-1' };
/** Every NETWORK_EVERY-th encounter is the network patient's. */
const NETWORK_EVERY = 4;
const TRUST = {
  clients: [CLIENT, NETWORK].map((c) => ({ clientId: c.clientId, organization: c.organization, jwksUri: 'https://unused.example/jwks', scopes: c.scopes })),
  dataSharing: [{ from: CLIENT.organization, to: NETWORK.organization, purposes: ['TREAT'] }],
  outboundAllowlist: ['127.0.0.1'],
};
const skip = TEST_DATABASE_URL ? false : 'real PostgreSQL crash tests need TEST_DATABASE_URL';
if (skip) process.stdout.write(`# notification crash tests skipped: ${skip}\n`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The local cluster (`pg_ctlcluster`), when TEST_DATABASE_URL points at one on this machine. */
function restartPostgres(): boolean {
  if (!existsSync('/etc/postgresql')) return false;
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) return false;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'ignore' });
  return true;
}

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  for (let attempt = 0; ; attempt++) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      return (await c.query(text, params)).rows as T[];
    } catch (e) {
      if (attempt > 50) throw e;
      await sleep(200);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

interface Fleet {
  url: string;
  env: Record<string, string>;
  replicas: ChildGateway[];
  /** Resolves when replica i is up again after a kill. */
  up: Promise<void>[];
  token: string;
  networkToken: string;
  drop(): Promise<void>;
}

/** A subscription and the Encounters acknowledged to its patients, each of which it must be told of. */
interface Expect {
  id: string;
  acked: Set<string>;
  /** Fewest events it must have recorded. */
  min: number;
}

describe('notification delivery survives crashes (real PostgreSQL, child processes)', { skip }, () => {
  let subscriber: Subscriber;
  let dir: string;
  const started: ChildGateway[] = [];

  before(async () => {
    subscriber = await startSubscriber();
    dir = mkdtempSync(path.join(tmpdir(), 'ktc-crash-'));
    writeFileSync(path.join(dir, 'trust.json'), JSON.stringify(TRUST));
  });
  after(async () => {
    await Promise.all(started.map((g) => g.stop('SIGKILL')));
    await subscriber.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>) => {
    const g = await startChildGateway(env);
    started.push(g);
    return g;
  };

  async function fleet(count: number): Promise<Fleet> {
    const { url, drop } = await createPostgresDatabase(TEST_DATABASE_URL!);
    const env = { DATABASE_URL: url, CONFIG_FILE: path.join(dir, 'trust.json'), PUBLIC_BASE_URL, LOG_LEVEL: 'info' };
    const replicas = [await start(env)];
    for (let i = 1; i < count; i++) replicas.push(await start(env));
    // The token a registered client would get from /auth/token, signed with the key the gateways share.
    const db = openPostgres(url, 1);
    const keys = new KeyStore(db, undefined);
    await keys.init();
    const tokens = accessTokens(keys, PUBLIC_BASE_URL, systemClock);
    const token = (await tokens.issue(CLIENT)).token;
    const networkToken = (await tokens.issue(NETWORK)).token;
    // The network's patient, as a check-in at the clinic would have stored it.
    await db.query(`INSERT INTO fhir_resource (resource_type, id, organization, content) VALUES ('Patient', $1, $2, $3)`, [
      NETWORK_PATIENT.id,
      CLIENT.organization,
      JSON.stringify({
        resourceType: 'Patient',
        id: NETWORK_PATIENT.id,
        identifier: [{ system: NETWORK_PATIENT.system, value: NETWORK_PATIENT.value }],
        name: [{ family: 'Crash' }],
      }),
    ]);
    await db.close();
    return { url, env, replicas, up: replicas.map(() => Promise.resolve()), token, networkToken, drop };
  }

  async function subscribe(f: Fleet, network = false): Promise<string> {
    const filter = `Encounter?patient.identifier=${NETWORK_PATIENT.system}|${NETWORK_PATIENT.value}`;
    const r = await fetch(`${f.replicas[0]!.baseUrl}/fhir/Subscription`, {
      method: 'POST',
      headers: { authorization: `Bearer ${network ? f.networkToken : f.token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'crash test',
        criteria: TOPICS[0]!.url,
        ...(network ? { _criteria: { extension: [{ url: BP.filterCriteria, valueString: filter }] } } : {}),
        channel: {
          type: 'rest-hook',
          endpoint: subscriber.url,
          payload: 'application/fhir+json',
          _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] },
          extension: [{ url: BP.timeout, valueUnsignedInt: 1 }],
        },
      }),
    });
    const body = (await r.json()) as { id: string; status: string };
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.status, 'active');
    return body.id;
  }

  /**
   * POSTs EVENTS encounters through the replicas (4 at a time), retrying whatever a crash
   * interrupted; every NETWORK_EVERY-th is the network patient's. Collects the acknowledged ids.
   */
  async function stream(f: Fleet, acked: Set<string>, ackedNetwork = new Set<string>()): Promise<void> {
    let issued = 0;
    const producer = async (n: number) => {
      while (issued < EVENTS) {
        const i = issued++;
        const forNetwork = i % NETWORK_EVERY === 0;
        for (let attempt = 0; ; attempt++) {
          const r = (i + attempt + n) % f.replicas.length;
          await f.up[r];
          try {
            const res = await fetch(`${f.replicas[r]!.baseUrl}/fhir/Encounter`, {
              method: 'POST',
              headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/fhir+json' },
              body: JSON.stringify({
                resourceType: 'Encounter',
                status: 'in-progress',
                class: { code: 'AMB' },
                subject: { reference: `Patient/${forNetwork ? NETWORK_PATIENT.id : `p${i}`}` },
              }),
              signal: AbortSignal.timeout(15_000),
            });
            const body = (await res.json()) as { id?: string };
            if (res.status === 201 && body.id) {
              acked.add(body.id);
              if (forNetwork) ackedNetwork.add(body.id);
              break;
            }
          } catch {
            // The replica died mid-request (or PostgreSQL is restarting): try again.
          }
          await sleep(50);
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(producer));
  }

  async function kill(f: Fleet, i: number, alsoRestartPostgres = false): Promise<void> {
    let ready!: () => void;
    f.up[i] = new Promise<void>((r) => (ready = r));
    await f.replicas[i]!.stop('SIGKILL');
    if (alsoRestartPostgres && !restartPostgres()) process.stdout.write('# PostgreSQL restart skipped: no local cluster under /etc/postgresql\n');
    f.replicas[i] = await start(f.env);
    ready();
  }

  /** Waits until the subscriber holds every event 1..N of each subscription, then checks order and exclusivity. */
  async function settle(f: Fleet, expects: Expect[]) {
    const subs = expects.map((e) => e.id);
    const counts = new Map<string, number>();
    for (const id of subs) {
      const [row] = await sql<{ event_count: number }>(f.url, 'SELECT event_count::int AS event_count FROM subscription WHERE id = $1', [id]);
      counts.set(id, row!.event_count);
    }
    await subscriber.waitFor('every event delivered', () => subs.every((id) => new Set(subscriber.events(id)).size === counts.get(id)), 90_000);
    for (const { id, acked, min } of expects) {
      const n = counts.get(id)!;
      const seen = subscriber.events(id);
      assert.ok(n >= min, `${n} events recorded for ${min} acknowledged writes`);
      assert.deepEqual(
        [...new Set(seen)].sort((a, b) => a - b),
        Array.from({ length: n }, (_, k) => k + 1),
        'event numbers 1..N, no gap',
      );
      let highest = 0;
      for (const e of seen) {
        assert.ok(e <= highest + 1, `event ${e} was delivered before event ${highest + 1}`);
        highest = Math.max(highest, e);
      }
      assert.equal(subscriber.maxConcurrent(id), 1, 'never two deliveries of one subscription at once');
      const focus = new Set(subscriber.delivered.filter((d) => d.subscriptionId === id && d.type === 'event-notification').flatMap((d) => d.focus.map((x) => x.split('/').pop())));
      for (const a of acked) assert.ok(focus.has(a), `acknowledged Encounter/${a} was notified`);
    }
    const [pending] = await sql<{ n: number }>(f.url, `SELECT count(*)::int AS n FROM outbox WHERE state <> 'delivered'`);
    assert.equal(pending!.n, 0, 'the outbox is drained');
  }

  /** Each event delivered to the network is one disclosure in the clinic's trail (recorded with the delivery, so never twice). */
  async function checkDisclosuresAudited(f: Fleet, network: string) {
    const [row] = await sql<{ event_count: number }>(f.url, 'SELECT event_count::int AS event_count FROM subscription WHERE id = $1', [network]);
    const [audited] = await sql<{ n: number }>(
      f.url,
      `SELECT count(*)::int AS n FROM audit_event WHERE subtype = 'disclosure.notification' AND organization = $1 AND detail->'disclosure'->>'recipientOrganization' = $2`,
      [CLIENT.organization, NETWORK.organization],
    );
    assert.equal(audited!.n, row!.event_count, 'each disclosure to the network audited once, in the clinic’s trail');
  }

  test('kill -9 ten times (and restart PostgreSQL once) during 1,000 encounter events: none lost, to the clinic or to its network', { timeout: 150_000 }, async () => {
    const f = await fleet(1);
    try {
      const sub = await subscribe(f);
      const network = await subscribe(f, true);
      const acked = new Set<string>();
      const ackedNetwork = new Set<string>();
      const streaming = stream(f, acked, ackedNetwork);
      for (let k = 0; k < 10; k++) {
        await subscriber.waitFor(`write ${(k + 1) * 85}`, () => acked.size >= (k + 1) * 85, 60_000);
        await kill(f, 0, k === 5);
      }
      await streaming;
      assert.equal(acked.size, EVENTS);
      assert.equal(ackedNetwork.size, EVENTS / NETWORK_EVERY);
      await settle(f, [
        { id: sub, acked, min: EVENTS },
        { id: network, acked: ackedNetwork, min: EVENTS / NETWORK_EVERY },
      ]);
      await checkDisclosuresAudited(f, network);
    } finally {
      await Promise.all(f.replicas.map((g) => g.stop('SIGKILL')));
      await f.drop();
    }
  });

  test('two replicas on one PostgreSQL, killed in turn: one delivery at a time per subscription (a network one too), in order', { timeout: 120_000 }, async () => {
    const f = await fleet(2);
    try {
      const subs = [await subscribe(f), await subscribe(f), await subscribe(f)];
      const network = await subscribe(f, true);
      subscriber.setDelay(1);
      const acked = new Set<string>();
      const ackedNetwork = new Set<string>();
      const streaming = stream(f, acked, ackedNetwork);
      for (let k = 0; k < 2; k++) {
        await subscriber.waitFor(`write ${(k + 1) * 300}`, () => acked.size >= (k + 1) * 300, 60_000);
        await kill(f, k % 2);
      }
      await streaming;
      assert.equal(acked.size, EVENTS);
      await settle(f, [...subs.map((id) => ({ id, acked, min: EVENTS })), { id: network, acked: ackedNetwork, min: EVENTS / NETWORK_EVERY }]);
      await checkDisclosuresAudited(f, network);
    } finally {
      subscriber.setDelay(0);
      await Promise.all(f.replicas.map((g) => g.stop('SIGKILL')));
      await f.drop();
    }
  });
});
