import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Router } from 'express';
import request from 'supertest';
import { buildApp, modules } from '../../src/app.js';
import { openPglite } from '../../src/db/pglite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SECRET_DETAIL = 'ssn-000-00-0000 token-abc';

describe('error responses are OperationOutcomes with the right status', () => {
  let gw: TestGateway;
  let app: ReturnType<typeof buildApp>;
  before(async () => {
    gw = await startTestGateway({ db: await openPglite('memory:'), env: { BODY_LIMIT_BYTES: '1024' } });
    const throwingRouter = Router();
    throwingRouter.get('/test/throws', () => {
      throw new Error(`database exploded near ${SECRET_DETAIL}`);
    });
    app = buildApp(gw.services, [...modules(gw.services), { router: throwingRouter }]);
  });
  after(async () => {
    await gw.close();
    await gw.services.db.close();
  });

  const isOutcome = (r: request.Response, status: number, code: string) => {
    assert.equal(r.status, status);
    assert.match(String(r.headers['content-type']), /application\/fhir\+json/);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.equal(r.body.issue[0].severity, 'error');
    assert.equal(r.body.issue[0].code, code);
  };

  test('malformed JSON is 400', async () => {
    const r = await request(app).post('/fhir/Patient').set('Content-Type', 'application/fhir+json').send('{"resourceType": "Patient",');
    isOutcome(r, 400, 'invalid');
  });

  test('an unknown route is 404', async () => {
    isOutcome(await request(app).get('/no/such/route'), 404, 'not-found');
  });

  test('a body over the configured limit is 413', async () => {
    const r = await request(app)
      .post('/fhir/Patient')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(4096) }));
    isOutcome(r, 413, 'too-costly');
  });

  test('an unexpected error is 500 with the request id, no stack and no detail; the log records the id', async () => {
    const r = await request(app).get('/test/throws').set('X-Request-Id', 'req-500-test');
    isOutcome(r, 500, 'exception');
    assert.equal(r.headers['x-request-id'], 'req-500-test');
    assert.match(r.body.issue[0].diagnostics, /req-500-test/);
    assert.doesNotMatch(r.text, /at |\.ts:|Error:|exploded|ssn-|token-abc/);
    const logged = gw.logs.find((l) => l.msg === 'unhandled error');
    assert.equal(logged?.requestId, 'req-500-test');
  });
});
