import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { openPglite } from '../../src/db/pglite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('operations endpoints', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ db: await openPglite('memory:') });
  });
  after(async () => {
    await gw.close();
    await gw.services.db.close();
  });

  test('/health and /ready', async () => {
    assert.equal((await request(gw.app).get('/health')).status, 200);
    const ready = await request(gw.app).get('/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('every response carries a request id and security headers', async () => {
    const r = await request(gw.app).get('/health').set('X-Request-Id', 'abc-123');
    assert.equal(r.headers['x-request-id'], 'abc-123');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    const generated = await request(gw.app).get('/health').set('X-Request-Id', 'bad id with spaces');
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('/metrics exposes request counts by route pattern', async () => {
    await request(gw.app).get('/health');
    const r = await request(gw.app).get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    assert.match(r.text, /http_request_duration_seconds_bucket/);
  });

  test('/.well-known/jwks.json publishes the ES256 key with its RFC 7638 thumbprint as kid', async () => {
    const r = await request(gw.app).get('/.well-known/jwks.json');
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const [key] = r.body.keys;
    assert.equal(key.kty, 'EC');
    assert.equal(key.crv, 'P-256');
    assert.equal(key.alg, 'ES256');
    assert.equal(key.use, 'sig');
    assert.equal(key.d, undefined);
    const { calculateJwkThumbprint } = await import('jose');
    assert.equal(key.kid, await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.x, y: key.y }, 'sha256'));
  });

  test('a body that is not JSON is 415 with an OperationOutcome', async () => {
    const r = await request(gw.app).post('/fhir/AuditEvent').set('Content-Type', 'text/plain').send('hello');
    assert.equal(r.status, 415);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.match(String(r.headers['content-type']), /application\/fhir\+json/);
  });

  test('/ready is 503 with an OperationOutcome when the database is gone', async () => {
    const db = await openPglite('memory:');
    const other = await startTestGateway({ db });
    await db.close();
    const r = await request(other.app).get('/ready');
    assert.equal(r.status, 503);
    assert.equal(r.body.resourceType, 'OperationOutcome');
  });
});

describe('audit trail', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ db: await openPglite('memory:') });
    const system = { kind: 'client' as const, id: 'ehr-a' };
    await gw.services.audit.record({ action: 'R', subtype: 'checkin.read', actor: { ...system, organization: 'Clinic A' }, entity: { type: 'Bundle', id: 'c1' } });
    await gw.services.audit.record({
      action: 'C',
      subtype: 'checkin.create',
      actor: { kind: 'patient', id: 'https://idp|p1' },
      organization: 'Clinic A',
      entity: { type: 'Bundle', id: 'c2' },
      detail: { method: 'shc' },
    });
    await gw.services.audit.record({
      action: 'R',
      subtype: 'checkin.read',
      actor: { kind: 'client', id: 'ehr-b', organization: 'Clinic B' },
      entity: { type: 'Bundle', id: 'c9' },
    });
  });
  after(async () => {
    await gw.close();
    await gw.services.db.close();
  });

  test('needs a client token with system/AuditEvent.read', async () => {
    assert.equal((await request(gw.app).get('/fhir/AuditEvent')).status, 401);
    const wrong = await gw.clientToken({ clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/checkin.read'] });
    const r = await request(gw.app).get('/fhir/AuditEvent').auth(wrong, { type: 'bearer' });
    assert.equal(r.status, 403);
    assert.equal(r.body.issue[0].code, 'security');
  });

  test('returns only the caller organization’s events, as FHIR AuditEvents', async () => {
    const token = await gw.clientToken({ clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/AuditEvent.read'] });
    const r = await request(gw.app).get('/fhir/AuditEvent').auth(token, { type: 'bearer' });
    assert.equal(r.status, 200);
    assert.equal(r.body.resourceType, 'Bundle');
    assert.equal(r.body.type, 'searchset');
    const events = r.body.entry.map((e: { resource: { entity: { what: { reference: string } }[] } }) => e.resource.entity[0]!.what.reference);
    assert.deepEqual(events.sort(), ['Bundle/c1', 'Bundle/c2']);
    for (const e of r.body.entry) gw.services.fhir.validate(e.resource);
    const one = await request(gw.app).get('/fhir/AuditEvent?entity=Bundle/c2').auth(token, { type: 'bearer' });
    assert.equal(one.body.entry.length, 1);
    assert.equal(one.body.entry[0].resource.agent[0].who.identifier.value, 'https://idp|p1');
    const bad = await request(gw.app).get('/fhir/AuditEvent?_count=0').auth(token, { type: 'bearer' });
    assert.equal(bad.status, 400);
  });

  test('total counts every matching event, not only the page', async () => {
    const token = await gw.clientToken({ clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/AuditEvent.read'] });
    const page = await request(gw.app).get('/fhir/AuditEvent?_count=1').auth(token, { type: 'bearer' });
    assert.equal(page.body.entry.length, 1);
    assert.equal(page.body.total, 2);
    const none = await request(gw.app).get('/fhir/AuditEvent?entity=Bundle/c9').auth(token, { type: 'bearer' });
    assert.deepEqual([none.body.total, none.body.entry.length], [0, 0]);
  });
});
