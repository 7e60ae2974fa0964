import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Router } from 'express';
import request from 'supertest';
import { buildApp, modules } from '../../src/app.js';
import { openPglite } from '../../src/db/pglite.js';
import { DomainError } from '../../src/errors.js';
import { ANSWERS, REMAINING_ATTEMPTS_URL } from '../../src/http/errors.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SECRET_DETAIL = 'ssn-000-00-0000 token-abc';

const domainErrors: Record<string, DomainError> = {
  refused: new DomainError('ERR_OUTBOUND_REFUSED', 'SHL manifest URL is not an allowed destination', {
    detail: 'blocked-address: internal.test leads to a forbidden address (private)',
  }),
  throttled: new DomainError('ERR_SHL_HOST_THROTTLED', 'The SHL host asks to retry later', { data: { retryAfterSeconds: '30' } }),
  passcode: new DomainError('ERR_SHL_PASSCODE', 'The SHL host refused the passcode; 2 attempts remain', { expression: ['passcode'], data: { remainingAttempts: 2 } }),
  token: new DomainError('ERR_IDENTITY_TOKEN', 'The identity token has expired'),
  invalid: new DomainError('ERR_FHIR_INVALID', 'The resource is not valid', {
    issues: [{ severity: 'error', code: 'required', diagnostics: 'Patient.name is required', expression: ['Patient.name'] }],
  }),
};

describe('error responses are OperationOutcomes with the right status', () => {
  let gw: TestGateway;
  let app: ReturnType<typeof buildApp>;
  before(async () => {
    gw = await startTestGateway({ db: await openPglite('memory:'), env: { BODY_LIMIT_BYTES: '1024' } });
    const throwingRouter = Router();
    throwingRouter.get('/test/throws', () => {
      throw new Error(`database exploded near ${SECRET_DETAIL}`);
    });
    throwingRouter.get('/test/domain/:case', (req) => {
      throw domainErrors[String(req.params.case)];
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

  test('a library error becomes the status and issue code of its row; public text only in the body, the detail in the log', async () => {
    const r = await request(app).get('/test/domain/refused').set('X-Request-Id', 'req-domain-test');
    isOutcome(r, 422, 'security');
    assert.equal(r.body.issue[0].diagnostics, 'SHL manifest URL is not an allowed destination');
    assert.doesNotMatch(r.text, /internal\.test|private|blocked-address/);
    const logged = gw.logs.find((l) => l.requestId === 'req-domain-test' && l.code === 'ERR_OUTBOUND_REFUSED');
    assert.match(String(logged?.detail), /internal\.test/);
  });

  test('rows add what HTTP needs: Retry-After, remainingAttempts, WWW-Authenticate; validation issues pass through', async () => {
    const throttled = await request(app).get('/test/domain/throttled');
    isOutcome(throttled, 429, 'throttled');
    assert.equal(throttled.headers['retry-after'], '30');
    const passcode = await request(app).get('/test/domain/passcode');
    isOutcome(passcode, 422, 'security');
    assert.deepEqual(passcode.body.issue[0].extension, [{ url: REMAINING_ATTEMPTS_URL, valueInteger: 2 }]);
    assert.deepEqual(passcode.body.issue[0].expression, ['passcode']);
    const token = await request(app).get('/test/domain/token');
    isOutcome(token, 401, 'login');
    assert.match(String(token.headers['www-authenticate']), /error="invalid_token"/);
    const invalid = await request(app).get('/test/domain/invalid');
    isOutcome(invalid, 422, 'required');
    assert.deepEqual(invalid.body.issue[0].expression, ['Patient.name']);
  });

  test('every code has a 4xx or 5xx row', () => {
    for (const [code, row] of Object.entries(ANSWERS)) assert.ok(row.status >= 400 && row.status < 600, code);
  });
});
