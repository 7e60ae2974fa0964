import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { openPglite } from '../../src/db/pglite.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { listRoutes, type RouteInfo } from '../helpers/routes.js';

/**
 * Property: whatever arrives on any route (arbitrary JSON, garbled links, cards, tokens and
 * JWEs, deep nesting, huge numbers, wrong content types), the gateway never answers 5xx, never
 * crashes, and every error is an OperationOutcome. Fixed seed; `npm run fuzz` runs it longer.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = 20261123;

// Routes that speak another protocol's error format where it defines one.
const OAUTH = new Set(['/auth/token']);
const SHL_PROTOCOL = /^\/shl\//;

const ALL_SCOPES = ['system/*.*', 'system/checkin.write', 'system/checkin.read', 'system/visit.write', 'system/visit.read', 'system/AuditEvent.read'];

const base64urlish = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')), maxLength: 200 });
const garbled = fc.oneof(
  fc.string({ maxLength: 300 }),
  base64urlish.map((s) => `shlink:/${s}`),
  fc.tuple(base64urlish, base64urlish, base64urlish).map(([a, b, c]) => `${a}.${b}.${c}`),
  fc.tuple(base64urlish, base64urlish, base64urlish, base64urlish).map(([a, b, c, d]) => `${a}..${b}.${c}.${d}`),
  fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: 400 }).map((d) => `shc:/${d}`),
  fc
    .tuple(fc.integer({ min: -2, max: 5 }), fc.integer({ min: -2, max: 5 }), fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: 100 }))
    .map(([i, n, d]) => `shc:/${i}/${n}/${d}`),
  fc.constantFrom('1e309', '-0', '9007199254740993', 'NaN', '\u0000', '../../etc/passwd', "'; DROP TABLE checkin; --"),
);
const deep = fc.integer({ min: 50, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const hugeNumber = fc.constantFrom('{"expiresIn":1e400}', '{"a":123456789012345678901234567890}', '[1e-400]');

const body = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: v }] })),
  fc.record({ shlink: garbled }).map((v) => JSON.stringify(v)),
  fc.record({ shc: fc.array(garbled, { maxLength: 3 }) }).map((v) => JSON.stringify(v)),
  fc.record({ identityToken: garbled, shc: garbled }).map((v) => JSON.stringify(v)),
  fc.record({ recipient: fc.string(), passcode: garbled, embeddedLengthMax: fc.oneof(fc.integer(), fc.double()) }).map((v) => JSON.stringify(v)),
  fc
    .record({ resourceType: fc.constantFrom('Parameters', 'Bundle', 'Patient', 'Encounter', 'Subscription', 'Appointment'), parameter: fc.jsonValue({ maxDepth: 2 }) })
    .map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify({ bundle: clipboardBundle() })),
  deep,
  hugeNumber,
  garbled,
);
const contentType = fc.constantFrom('application/json', 'application/fhir+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/jose', undefined);
const idParam = fc.oneof(fc.uuid(), base64urlish, fc.string({ maxLength: 80 }), fc.constant('..%2f..'));

describe('fuzz: every public route', () => {
  let gw: TestGateway;
  let idp: Idp;
  let routes: RouteInfo[];
  let clientToken: string;
  let patientToken: string;

  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({ db: await openPglite('memory:'), trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    routes = listRoutes(gw.app);
    clientToken = await gw.clientToken({ clientId: 'fuzz', organization: 'Fuzz Org', scopes: ALL_SCOPES });
    patientToken = await idp.token({ sub: 'fuzz-patient', ...patientClaims() }, { expiresIn: 3600 });
  });
  after(async () => {
    await gw.close();
    await idp.close();
    await gw.services.db.close();
  });

  test('routes were found', () => {
    assert.ok(routes.length >= 20, `only ${routes.length} routes`);
  });

  test('never a 5xx, every error an OperationOutcome', async () => {
    const auth = fc.constantFrom<'none' | 'client' | 'patient' | 'garbage'>('none', 'client', 'patient', 'garbage');
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(idParam, { minLength: 3, maxLength: 3 }), body, contentType, auth, fc.boolean(), async (pick, ids, payload, type, who, sse) => {
        const route = routes[pick % routes.length]!;
        let i = 0;
        const path = route.path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(ids[i++ % ids.length]!));
        let req = request(gw.app)[route.method.toLowerCase() as 'get'](path);
        if (who === 'client') req = req.set('Authorization', `Bearer ${clientToken}`);
        if (who === 'patient') req = req.set('Authorization', `Bearer ${patientToken}`);
        if (who === 'garbage') req = req.set('Authorization', `Bearer ${ids[0]}`);
        if (sse) req = req.set('Accept', 'text/event-stream');
        if (route.method !== 'GET' && route.method !== 'DELETE') {
          if (type) req = req.set('Content-Type', type);
          req = req.send(payload);
        }
        const res = await req.timeout({ response: 15_000, deadline: 20_000 });
        assert.ok(res.status < 500, `${route.method} ${route.path} → ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status >= 400 && !OAUTH.has(route.path) && !(SHL_PROTOCOL.test(route.path) && res.status === 401)) {
          assert.equal(res.body?.resourceType, 'OperationOutcome', `${route.method} ${route.path} → ${res.status} ${res.text.slice(0, 300)}`);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const health = await request(gw.app).get('/health');
    assert.equal(health.status, 200, 'still alive');
  });
});
