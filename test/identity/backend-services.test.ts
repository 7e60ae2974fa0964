import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { ClientConfig } from '../../src/config.js';
import type { Db } from '../../src/db/db.js';
import { openPostgres } from '../../src/db/postgres.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { testDatabases } from '../helpers/db.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface ClientKey {
  alg: 'ES384' | 'RS384';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function clientKey(alg: ClientKey['alg']): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = `${alg}-${base64url.encode(crypto.getRandomValues(new Uint8Array(6)))}`;
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

interface AssertionOptions {
  iss?: string;
  sub?: string;
  aud?: string;
  /** Seconds from the clock's now. */
  expiresIn?: number;
  jti?: string;
  header?: Record<string, unknown>;
  now: number;
}

async function assertion(clientId: string, k: ClientKey, o: AssertionOptions): Promise<string> {
  const now = Math.floor(o.now / 1000);
  return new SignJWT({ jti: o.jti ?? crypto.randomUUID() })
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT', ...o.header })
    .setIssuer(o.iss ?? clientId)
    .setSubject(o.sub ?? clientId)
    .setAudience(o.aud ?? 'http://127.0.0.1:8080/auth/token')
    .setIssuedAt(now)
    .setExpirationTime(now + (o.expiresIn ?? 240))
    .sign(k.privateKey);
}

function unsigned(clientId: string, now: number): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  const t = Math.floor(now / 1000);
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: clientId, sub: clientId, aud: 'http://127.0.0.1:8080/auth/token', exp: t + 60, jti: crypto.randomUUID() })}.`;
}

/** A client's jwks_uri host on loopback. */
async function serveJwks(keys: JWK[]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tokenRequest(gw: TestGateway, form: Record<string, string>) {
  return request(gw.app).post('/auth/token').type('form').send(form);
}

const form = (clientAssertion: string, scope: string) => ({
  grant_type: 'client_credentials',
  client_assertion_type: JWT_BEARER,
  client_assertion: clientAssertion,
  scope,
});

for (const database of testDatabases()) {
  describe(`SMART Backend Services token endpoint (${database.name})`, () => {
    let es: ClientKey;
    let rs: ClientKey;
    let jwksHost: { url: string; close(): Promise<void> };
    let db: Db;
    let replicaDb: Db;
    let gw: TestGateway;
    let replica: TestGateway;
    const clock = new ManualClock(Date.now());
    let clients: ClientConfig[];

    before(async () => {
      es = await clientKey('ES384');
      rs = await clientKey('RS384');
      jwksHost = await serveJwks([rs.publicJwk]);
      clients = [
        { clientId: 'kiosk-1', organization: 'Clinic A', jwks: { keys: [es.publicJwk] }, scopes: ['system/checkin.write', 'system/AuditEvent.read'] },
        { clientId: 'ehr-1', organization: 'Clinic B', jwksUri: jwksHost.url, scopes: ['system/Encounter.cud', 'system/AuditEvent.read'] },
      ];
      db = await database.open();
      // A second replica: its own connection pool on the same PostgreSQL database (PGlite: the same instance).
      replicaDb = database.name === 'postgres' && database.url ? openPostgres(database.url) : db;
      const trust = { clients, outboundAllowlist: ['127.0.0.1'] };
      gw = await startTestGateway({ db, trust, clock });
      replica = await startTestGateway({ db: replicaDb, trust, clock });
    });
    after(async () => {
      await gw.close();
      await replica.close();
      if (replicaDb !== db) await replicaDb.close();
      await database.cleanup();
      await jwksHost.close();
    });

    test('the SMART configuration advertises what backend clients need', async () => {
      for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
        const r = await request(gw.app).get(path).set('Accept', 'text/html');
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-type']), /application\/json/);
        assert.equal(r.body.token_endpoint, 'http://127.0.0.1:8080/auth/token');
        assert.deepEqual(r.body.grant_types_supported, ['client_credentials']);
        assert.deepEqual(r.body.token_endpoint_auth_methods_supported, ['private_key_jwt']);
        for (const alg of ['ES384', 'RS384']) assert.ok(r.body.token_endpoint_auth_signing_alg_values_supported.includes(alg));
        for (const c of ['client-confidential-asymmetric', 'permission-v1', 'permission-v2']) assert.ok(r.body.capabilities.includes(c));
        assert.ok(r.body.scopes_supported.includes('system/checkin.write'));
      }
    });

    test('an ES384 client (inline JWKS) and an RS384 client (jwks_uri) obtain tokens that open their routes; issuance is audited', async () => {
      const a = await tokenRequest(gw, form(await assertion('kiosk-1', es, { now: clock.now() }), 'system/checkin.write system/AuditEvent.read system/Patient.rs'));
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(a.body.token_type, 'bearer');
      assert.equal(a.body.expires_in, 300);
      assert.equal(a.body.scope, 'system/checkin.write system/AuditEvent.read');
      assert.equal(a.headers['cache-control'], 'no-store');

      const b = await tokenRequest(gw, form(await assertion('ehr-1', rs, { now: clock.now() }), 'system/AuditEvent.read'));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(b.body.scope, 'system/AuditEvent.read');

      const audit = await request(gw.app).get('/fhir/AuditEvent').set('Authorization', `Bearer ${a.body.access_token}`);
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      const subtypes = audit.body.entry.map((e: { resource: { subtype: { code: string }[]; agent: { who: { identifier: { value: string } } }[] } }) => [
        e.resource.subtype[0]?.code,
        e.resource.agent[0]?.who.identifier.value,
      ]);
      assert.deepEqual(subtypes, [['auth.token', 'kiosk-1']], 'each organization sees only its own issuance');
      const text = JSON.stringify(gw.logs);
      assert.ok(!text.includes(a.body.access_token) && !text.includes(String(String(a.body.access_token).split('.')[1])));
    });

    test('a token for scope A calling a route that needs scope B is 403 with an OperationOutcome', async () => {
      const t = await tokenRequest(gw, form(await assertion('kiosk-1', es, { now: clock.now() }), 'system/checkin.write'));
      assert.equal(t.status, 200);
      const r = await request(gw.app).get('/fhir/AuditEvent').set('Authorization', `Bearer ${t.body.access_token}`);
      assert.equal(r.status, 403);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.equal(r.body.issue[0].code, 'security');
    });

    test('a replayed jti is refused, on the same gateway and on another replica sharing the database', async () => {
      const jti = crypto.randomUUID();
      const first = await tokenRequest(gw, form(await assertion('kiosk-1', es, { now: clock.now(), jti }), 'system/checkin.write'));
      assert.equal(first.status, 200);
      // A fresh signature over the same jti is still a replay.
      for (const target of [gw, replica]) {
        const again = await tokenRequest(target, form(await assertion('kiosk-1', es, { now: clock.now(), jti }), 'system/checkin.write'));
        assert.equal(again.status, 401);
        assert.deepEqual(Object.keys(again.body).sort(), ['error', 'error_description']);
        assert.equal(again.body.error, 'invalid_client');
      }
      // Concurrent first uses on two replicas: exactly one wins.
      const raced = crypto.randomUUID();
      const results = await Promise.all(
        [gw, replica].map(async (target) => (await tokenRequest(target, form(await assertion('ehr-1', rs, { now: clock.now(), jti: raced }), 'system/AuditEvent.read'))).status),
      );
      assert.deepEqual(results.sort(), [200, 401]);
    });

    test('used jtis are pruned once their assertions have expired', async () => {
      await tokenRequest(gw, form(await assertion('kiosk-1', es, { now: clock.now() }), 'system/checkin.write'));
      clock.advance(10 * 60_000);
      await tokenRequest(gw, form(await assertion('kiosk-1', es, { now: clock.now() }), 'system/checkin.write'));
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM client_assertion_jti');
      assert.equal(rows[0]?.n, 1);
    });

    test('bad assertions are invalid_client (401) in the OAuth error format', async () => {
      const now = clock.now();
      const stranger = await clientKey('ES384');
      const cases: Record<string, string> = {
        expired: await assertion('kiosk-1', es, { now: now - 10 * 60_000 }),
        'exp more than 5 minutes ahead': await assertion('kiosk-1', es, { now, expiresIn: 3600 }),
        'wrong aud': await assertion('kiosk-1', es, { now, aud: 'http://127.0.0.1:8080/auth/token/' }),
        'sub differs from iss': await assertion('kiosk-1', es, { now, sub: 'ehr-1' }),
        'unregistered client': await assertion('kiosk-9', es, { now }),
        'unsigned (alg none)': unsigned('kiosk-1', now),
        'signed by another key with the registered kid': await assertion('kiosk-1', { ...stranger, kid: es.kid }, { now }),
        'unknown kid': await assertion('kiosk-1', stranger, { now }),
        'jku not the registered jwks_uri': await assertion('ehr-1', rs, { now, header: { jku: 'http://127.0.0.1:9/jwks.json' } }),
        'jku on a client with inline keys': await assertion('kiosk-1', es, { now, header: { jku: jwksHost.url } }),
        'kid of the wrong key type': await assertion('ehr-1', { ...stranger, kid: rs.kid }, { now }),
        'not a JWT': 'nope',
      };
      for (const [name, a] of Object.entries(cases)) {
        const r = await tokenRequest(gw, form(a, 'system/checkin.write'));
        assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'invalid_client', name);
        assert.equal(typeof r.body.error_description, 'string', name);
      }
      const matching = await tokenRequest(gw, form(await assertion('ehr-1', rs, { now, header: { jku: jwksHost.url } }), 'system/AuditEvent.read'));
      assert.equal(matching.status, 200, 'a jku equal to the registered jwks_uri is fine');
    });

    test('malformed requests are 400 with RFC 6749 error codes', async () => {
      const good = () => assertion('kiosk-1', es, { now: clock.now() });
      const cases: Array<[string, request.Test, string]> = [
        ['scope outside the registration', tokenRequest(gw, form(await good(), 'system/Encounter.cud')), 'invalid_scope'],
        ['other grant type', tokenRequest(gw, { ...form(await good(), 'system/checkin.write'), grant_type: 'authorization_code' }), 'unsupported_grant_type'],
        ['wrong assertion type', tokenRequest(gw, { ...form(await good(), 'system/checkin.write'), client_assertion_type: 'jwt' }), 'invalid_request'],
        ['no scope', tokenRequest(gw, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await good() }), 'invalid_request'],
        [
          'repeated parameter',
          request(gw.app)
            .post('/auth/token')
            .type('form')
            .send(`${new URLSearchParams(form(await good(), 'system/checkin.write'))}&scope=x`),
          'invalid_request',
        ],
        [
          'JSON body',
          request(gw.app)
            .post('/auth/token')
            .send(form(await good(), 'system/checkin.write')),
          'invalid_request',
        ],
      ];
      for (const [name, req, error] of cases) {
        const r = await req;
        assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, error, name);
      }
    });
  });
}
