import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { openPglite } from '../../src/db/pglite.js';
import { BP } from '../../src/notifications/backport.js';
import { TOPICS } from '../../src/notifications/topics.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Property: a Subscription with any one element replaced by arbitrary JSON, and Encounter,
 * Appointment and operation bodies made of arbitrary values, get a 2xx or a 4xx OperationOutcome,
 * never a 5xx. (Endpoints point at a closed loopback port: nothing is ever reached.)
 */
const SEED = 20261123;

const valid = {
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'fuzz',
  criteria: TOPICS[0]!.url,
  _criteria: { extension: [{ url: BP.filterCriteria, valueString: 'patient=1' }] },
  channel: {
    type: 'rest-hook',
    endpoint: 'http://127.0.0.1:1/hook',
    payload: 'application/fhir+json',
    header: ['X-Key: 1'],
    _payload: { extension: [{ url: BP.payloadContent, valueCode: 'id-only' }] },
    extension: [{ url: BP.timeout, valueUnsignedInt: 1 }],
  },
};
const PATHS: (string | number)[][] = [
  ['_criteria', 'extension'],
  ['_criteria', 'extension', 0],
  ['_criteria', 'extension', 0, 'valueString'],
  ['channel'],
  ['channel', '_payload', 'extension'],
  ['channel', '_payload', 'extension', 0, 'valueCode'],
  ['channel', 'extension'],
  ['channel', 'extension', 0, 'valueUnsignedInt'],
  ['channel', 'header'],
  ['channel', 'endpoint'],
  ['channel', 'payload'],
  ['criteria'],
  ['end'],
  ['status'],
];

function replaced(path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(valid) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', 'Encounter?patient=%', 'patient=Patient/1&', '?', 'status=|', 'https://[::1]/x', 'application/fhir+json; fhirVersion=5.0', 'X: y', 'no colon', '2020-01-01'),
);

describe('fuzz: notification inputs', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startTestGateway({ db: await openPglite('memory:'), trust: { outboundAllowlist: ['127.0.0.1'] } });
    token = await gw.clientToken({ clientId: 'fuzz', organization: 'Fuzz Org', scopes: ['system/*.*'] });
  });
  after(async () => {
    await gw.close();
    await gw.services.db.close();
  });

  test('Subscriptions with one element garbled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), value, async (path, v) => {
        const r = await request(gw.app)
          .post('/fhir/Subscription')
          .auth(token, { type: 'bearer' })
          .send(replaced(path, v) as object);
        assert.ok(r.status < 500 && (r.status < 400 || r.body.resourceType === 'OperationOutcome'), `${r.status} at ${path.join('.')}`);
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  test('resources and operation parameters made of arbitrary values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('Encounter', 'Appointment'), async (v, type) => {
        const answers: [string, request.Response][] = [
          [type, await request(gw.app).post(`/fhir/${type}`).auth(token, { type: 'bearer' }).send({ resourceType: type, status: v, class: v, subject: v, participant: v })],
          ['$events', await request(gw.app).post('/fhir/Subscription/x/$events').auth(token, { type: 'bearer' }).send({ resourceType: 'Parameters', parameter: v })],
          [
            '$status',
            await request(gw.app)
              .post('/fhir/Subscription/$status')
              .auth(token, { type: 'bearer' })
              .send({ resourceType: 'Parameters', parameter: [{ name: 'status', valueString: v }] }),
          ],
          [
            '$status?',
            await request(gw.app)
              .get(`/fhir/Subscription/$status?status=${encodeURIComponent(JSON.stringify(v))}`)
              .auth(token, { type: 'bearer' }),
          ],
        ];
        for (const [what, r] of answers) assert.ok(r.status < 500, `${r.status} ${what}`);
      }),
      { numRuns: 100, seed: SEED },
    );
  });
});
