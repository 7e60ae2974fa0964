import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import express, { type Express } from 'express';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { IdentityProviderConfig } from '../../src/config.js';
import type { Db } from '../../src/db/db.js';
import { openPglite } from '../../src/db/pglite.js';
import { errorHandler } from '../../src/http/errors.js';
import { patientOf, requirePatient } from '../../src/http/guards.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AAL2_ACR, IAL1_ACR, patientClaims, startIdp, verifiedClaims, type Idp } from '../helpers/idp.js';

/** A tiny app behind the real patient guard and error handler (no test routes in the production app). */
function guarded(gw: TestGateway): Express {
  const app = express();
  app.get('/me', requirePatient(gw.services.auth), (_req, res) => {
    res.json(patientOf(res));
  });
  app.use(errorHandler(gw.services.log));
  return app;
}

// The patient guard keeps nothing in the database, so every gateway here shares one (PGlite is slow to open).
let shared: Promise<Db> | undefined;
after(async () => {
  if (shared) await (await shared).close();
});

async function gateway(providers: IdentityProviderConfig[], opts: { clock?: ManualClock; allowlist?: string[] } = {}) {
  shared ??= openPglite('memory:');
  const gw = await startTestGateway({
    db: await shared,
    trust: { identityProviders: providers, outboundAllowlist: opts.allowlist ?? ['127.0.0.1'] },
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { gw, app: guarded(gw) };
}

const stop = (gw: TestGateway) => gw.close();

function assertOutcome(r: request.Response, status: number, code: string, token: string) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.resourceType, 'OperationOutcome');
  assert.equal(r.body.issue[0].code, code);
  assert.ok(!JSON.stringify(r.body).includes(token.split('.')[1] ?? token), 'the outcome echoes the token');
}

describe('patient identity tokens', () => {
  let idp: Idp;
  let attacker: Idp;
  let gw: TestGateway;
  let app: Express;
  const get = (token: string) => request(app).get('/me').set('Authorization', `Bearer ${token}`);

  before(async () => {
    idp = await startIdp();
    attacker = await startIdp();
    ({ gw, app } = await gateway([idp.providerConfig()]));
  });
  after(async () => {
    await stop(gw);
    await idp.close();
    await attacker.close();
  });

  test('an IAL2/AAL2 token is accepted with its evidence and name; the JWKS is found by discovery and cached', async () => {
    const before = { ...idp.stats };
    for (const token of [await idp.token(patientClaims()), await idp.token({ ...patientClaims(), sub: 'other', acr: AAL2_ACR, amr: undefined, ...verifiedClaims() })]) {
      const r = await get(token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.issuer, idp.issuer);
      assert.equal(r.body.ial, 2);
      assert.equal(r.body.aal, 2);
      assert.deepEqual(r.body.name, { given: ['John', 'B.'], family: 'Anyperson' });
      assert.equal(r.body.birthDate, '1951-01-20');
    }
    assert.ok(idp.stats.jwks - before.jwks <= 1 && idp.stats.discovery - before.discovery <= 1, 'keys are cached');
  });

  test('every signing algorithm the IdP declares is accepted (ES256, ES384, RS256, PS256)', async () => {
    for (const alg of ['ES256', 'ES384', 'RS256', 'PS256'] as const) {
      assert.equal((await get(await idp.token({}, { alg }))).status, 200, alg);
    }
  });

  test('name and birth date come from verified_claims.claims, not the self-asserted top level', async () => {
    const token = await idp.token({
      ...patientClaims({ given: 'Mallory', family: 'Impostor', birthDate: '1990-02-02' }),
      acr: undefined,
      ...verifiedClaims({}, { trust_framework: 'nist_800_63A_ial_2', time: '2025-01-01T00:00:00Z' }),
    });
    const r = await get(token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.name, { given: ['John', 'B.'], family: 'Anyperson' });
    assert.equal(r.body.birthDate, '1951-01-20');
    assert.deepEqual(r.body.evidence, { amr: ['mfa'], trustFramework: 'nist_800_63A_ial_2', verificationTime: '2025-01-01T00:00:00Z' });
  });

  test('IAL1 and AAL1 tokens are 403 security, naming the level that fell short', async () => {
    const ial1 = await idp.token({ acr: IAL1_ACR });
    const r1 = await get(ial1);
    assertOutcome(r1, 403, 'security', ial1);
    assert.match(r1.body.issue[0].diagnostics, /IAL2/);
    assert.doesNotMatch(r1.body.issue[0].diagnostics, /AAL2/);

    const aal1 = await idp.token({ amr: ['pwd'] });
    const r2 = await get(aal1);
    assertOutcome(r2, 403, 'security', aal1);
    assert.match(r2.body.issue[0].diagnostics, /AAL2/);
    assert.doesNotMatch(r2.body.issue[0].diagnostics, /IAL2/);
  });

  test('bad tokens are 401 login with an OperationOutcome', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = 'http://127.0.0.1:1';
    const cases: Record<string, string> = {
      expired: await idp.token({}, { iat: now - 900, exp: now - 120 }),
      'not yet valid': await idp.token({}, { nbf: now + 600 }),
      'issued in the future': await idp.token({}, { iat: now + 600, exp: now + 900 }),
      'wrong audience': await idp.token({}, { aud: 'someone-else' }),
      'no audience': await idp.token({}, { aud: null }),
      'wrong issuer': await idp.token({}, { iss: other }),
      'other authorized party': await idp.token({ azp: 'someone-else' }),
      'unsigned (alg none)': await idp.token({}, { alg: 'none' }),
      'HS256 signed with the public key': await idp.token({}, { alg: 'HS256' }),
      'jku pointing elsewhere': await attacker.token({}, { iss: idp.issuer, aud: idp.audience, header: { jku: attacker.jwksUri } }),
      'x5u pointing elsewhere': await attacker.token({}, { iss: idp.issuer, aud: idp.audience, header: { x5u: `${attacker.issuer}/cert.pem` } }),
      'embedded jwk': await attacker.token({}, { iss: idp.issuer, aud: idp.audience, kid: idp.kid(), header: { jwk: attacker.publicJwk() } }),
      'unknown kid': await attacker.token({}, { iss: idp.issuer, aud: idp.audience }),
      'alg the key does not declare': await idp.token({}, { alg: 'RS256', kid: idp.kid('PS256') }),
      'unknown crit header': await idp.token({}, { header: { crit: ['urn:example:unknown'], 'urn:example:unknown': true } }),
      'no subject': await idp.token({ sub: undefined }),
      'not a JWT': 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const r = await get(token);
      assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`);
      assertOutcome(r, 401, 'login', token);
      assert.match(String(r.headers['www-authenticate']), /Bearer/, name);
    }
    assert.equal(attacker.stats.jwks, 0, 'keys are never fetched from a URL the token names');
  });

  test('a token inside the 60 s skew is accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await get(await idp.token({}, { iat: now - 600, exp: now - 30 }))).status, 200);
  });

  test('logs never carry the token or the patient demographics', async () => {
    const token = await idp.token(patientClaims());
    await get(token);
    const text = JSON.stringify(gw.logs);
    for (const secret of [token, token.split('.')[1] as string, 'Anyperson', '1951-01-20']) assert.ok(!text.includes(secret));
  });
});

describe('issuer key rotation and JWKS failures', () => {
  test('a new kid at the IdP is picked up without restart, at most one refetch per 30 s', async () => {
    const idp = await startIdp();
    const clock = new ManualClock(Date.now());
    const { gw, app } = await gateway([idp.providerConfig({ jwksUri: idp.jwksUri })], { clock });
    try {
      const get = (token: string) => request(app).get('/me').set('Authorization', `Bearer ${token}`);
      assert.equal((await get(await idp.token({}, { now: clock.now() }))).status, 200);
      assert.equal(idp.stats.discovery, 0, 'a configured jwksUri skips discovery');
      assert.equal(idp.stats.jwks, 1);

      clock.advance(31_000);
      await idp.rotate({ retireOld: true });
      const rotated = await idp.token({}, { now: clock.now() });
      assert.equal((await get(rotated)).status, 200, 'the unknown kid triggers a refetch');
      assert.equal(idp.stats.jwks, 2);

      await idp.rotate({ retireOld: true });
      const again = await idp.token({}, { now: clock.now() });
      assert.equal((await get(again)).status, 401, 'within 30 s of the last fetch an unknown kid does not refetch');
      assert.equal((await get(again)).status, 401);
      assert.equal(idp.stats.jwks, 2);

      clock.advance(30_000);
      assert.equal((await get(await idp.token({}, { now: clock.now() }))).status, 200);
      assert.equal(idp.stats.jwks, 3);
    } finally {
      await stop(gw);
      await idp.close();
    }
  });
});

describe('issuer keys out of reach', () => {
  // Three issuers on one gateway: one that goes down, one the allow-list does not name, one whose port closes.
  let down: Idp;
  let unlisted: Idp;
  let gone: Idp;
  let gw: TestGateway;
  let app: Express;
  const get = (token: string) => request(app).get('/me').set('Authorization', `Bearer ${token}`);

  before(async () => {
    [down, unlisted, gone] = await Promise.all([startIdp(), startIdp(), startIdp()]);
    const hostOf = (idp: Idp) => new URL(idp.issuer).host;
    ({ gw, app } = await gateway(
      [down, unlisted, gone].map((i) => i.providerConfig()),
      { allowlist: [hostOf(down), hostOf(gone)] },
    ));
  });
  after(async () => {
    await stop(gw);
    // closing `gone` again is harmless if its test already did
    await Promise.all([down.close(), unlisted.close(), gone.close()]);
  });

  test('an unavailable JWKS or discovery document is 502, not 401; it recovers when the IdP does', async () => {
    const token = await down.token();
    down.setAvailable(false);
    assertOutcome(await get(token), 502, 'transient', token);
    down.setAvailable(true);
    assert.equal((await get(token)).status, 200);
  });

  test('an issuer the outbound allow-list does not name is 502 and never contacted (keys only via the guarded fetch)', async () => {
    const token = await unlisted.token();
    assertOutcome(await get(token), 502, 'transient', token);
    assert.equal(unlisted.stats.discovery + unlisted.stats.jwks, 0);
  });

  test('a closed IdP port is 502', async () => {
    const token = await gone.token();
    await gone.close();
    assertOutcome(await get(token), 502, 'transient', token);
  });
});
