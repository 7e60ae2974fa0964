import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listMigrations } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';
import { accessTokens } from '../../src/identity/access-token.js';
import { KeyStore } from '../../src/keys/keystore.js';
import { systemClock } from '../../src/clock.js';
import type { Db } from '../../src/db/db.js';
import { startChildGateway, type ChildGateway } from '../helpers/child-gateway.js';
import { TEST_DATABASE_URL, createPostgresDatabase } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';

/** Two gateway processes behind one (imaginary) load balancer, sharing one PostgreSQL. */
const PUBLIC_BASE_URL = 'http://gateway.test';
const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read'] };
const EHR = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/Encounter.write', 'system/Subscription.write', 'system/Subscription.read'] };
const ENCOUNTERS = 60;

describe('two replicas on one PostgreSQL', { skip: TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let idp: Idp;
  let db: Db;
  let drop: () => Promise<void>;
  let replicas: ChildGateway[] = [];
  let kioskToken: string;
  let ehrToken: string;
  let subscriber: Subscriber;
  const dir = mkdtempSync(path.join(tmpdir(), 'ktc-replicas-'));

  before(async () => {
    idp = await startIdp();
    subscriber = await startSubscriber();
    const created = await createPostgresDatabase(TEST_DATABASE_URL!);
    drop = created.drop;
    const configFile = path.join(dir, 'trust.json');
    writeFileSync(configFile, JSON.stringify({ identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] }));
    const env = { DATABASE_URL: created.url, CONFIG_FILE: configFile, PUBLIC_BASE_URL };
    // Started together: both race to migrate and to create the signing key.
    replicas = await Promise.all([startChildGateway(env), startChildGateway(env)]);
    db = openPostgres(created.url, 2);
    const keys = new KeyStore(db, undefined);
    await keys.init();
    const tokens = accessTokens(keys, PUBLIC_BASE_URL, systemClock);
    kioskToken = (await tokens.issue(KIOSK)).token;
    ehrToken = (await tokens.issue(EHR)).token;
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.close();
    await drop?.();
    await idp.close();
    await subscriber.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('migrations ran once and both replicas share one signing key', async () => {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migration');
    assert.equal(rows[0]!.n, listMigrations().length);
    const jwks = await Promise.all(replicas.map(async (r) => (await (await fetch(`${r.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }));
    assert.deepEqual(
      jwks[0]!.keys.map((k) => k.kid),
      jwks[1]!.keys.map((k) => k.kid),
    );
    assert.equal(jwks[0]!.keys.length, 1);
  });

  test('a check-in taken by either replica is readable on both', async () => {
    const [a, b] = replicas as [ChildGateway, ChildGateway];
    for (const [writer, reader] of [
      [a, b],
      [b, a],
    ] as const) {
      const identityToken = await idp.token({ sub: `patient-${writer.port}`, ...patientClaims() });
      const created = await fetch(`${writer.baseUrl}/checkin`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${kioskToken}` },
        body: JSON.stringify({ identityToken, bundle: clipboardBundle() }),
      });
      assert.equal(created.status, 201);
      const bundle = (await created.json()) as { id: string };
      const read = await fetch(`${reader.baseUrl}/checkin/${bundle.id}`, { headers: { Authorization: `Bearer ${kioskToken}` } });
      assert.equal(read.status, 200);
      assert.deepEqual(await read.json(), bundle);
    }
  });

  test("a kiosk's event stream on one replica is woken by a check-in taken by the other", { timeout: 60_000 }, async () => {
    const [a, b] = replicas as [ChildGateway, ChildGateway];
    const opened = await fetch(`${a.baseUrl}/checkin/sessions`, { method: 'POST', headers: { Authorization: `Bearer ${kioskToken}` } });
    assert.equal(opened.status, 201);
    const { id } = (await opened.json()) as { id: string };
    const stream = await fetch(`${a.baseUrl}/checkin/sessions/${id}`, { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${kioskToken}` } });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"waiting"')) text += (await reader.read()).value ?? '';
    const submitted = await fetch(`${b.baseUrl}/checkin/sessions/${id}/submit`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await idp.token({ sub: 'patient-sse', ...patientClaims() })}` },
      body: JSON.stringify({ bundle: clipboardBundle() }),
    });
    assert.equal(submitted.status, 201);
    // The session lives ten minutes: only the check-in's notification can end the stream within the test's timeout.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    assert.match(text, /"waiting"[\s\S]*"completed"/);
  });

  test('notifications are delivered once per event per subscriber, in order, whichever replica took the write', async () => {
    const [a, b] = replicas as [ChildGateway, ChildGateway];
    const post = (gw: ChildGateway, path: string, body: unknown) =>
      fetch(`${gw.baseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Authorization: `Bearer ${ehrToken}` }, body: JSON.stringify(body) });
    const subscription = {
      resourceType: 'Subscription',
      meta: { profile: [BP.subscriptionProfile] },
      status: 'requested',
      reason: 'two replicas',
      criteria: TOPICS[0]!.url,
      channel: { type: 'rest-hook', endpoint: subscriber.url, payload: 'application/fhir+json', _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] } },
    };
    const created = await post(a, '/fhir/Subscription', subscription);
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    subscriber.setDelay(5);
    for (let i = 0; i < ENCOUNTERS; i++) {
      const r = await post(i % 2 ? b : a, '/fhir/Encounter', {
        resourceType: 'Encounter',
        status: 'arrived',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/p${i}` },
      });
      assert.equal(r.status, 201);
    }
    await subscriber.waitFor('every event', () => subscriber.events(id).length >= ENCOUNTERS, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      subscriber.events(id),
      Array.from({ length: ENCOUNTERS }, (_, i) => i + 1),
      'each event once, in order',
    );
    assert.equal(subscriber.maxConcurrent(id), 1, 'never two deliveries of one subscription at once');
  });
});
