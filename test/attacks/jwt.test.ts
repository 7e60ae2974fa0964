import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, base64url, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { openPglite } from '../../src/db/pglite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { IAL1_ACR, patientClaims, startIdp, type Idp } from '../helpers/idp.js';

/**
 * JWT attack catalogue, end to end through a real route. Patient tokens go to GET /visits/{id}
 * (patient or client), client tokens to GET /fhir/AuditEvent. Each row: the forged token and the
 * status the gateway must answer; every answer is an OperationOutcome that never echoes the token.
 */
const VISIT = '/visits/00000000-0000-4000-8000-000000000000';

function resign(token: string, header: Record<string, unknown>): string {
  const [, payload, sig] = token.split('.');
  return `${base64url.encode(JSON.stringify(header))}.${payload}.${sig}`;
}

describe('JWT attack catalogue', () => {
  let idp: Idp;
  let attacker: Idp;
  let gw: TestGateway;
  let removedKeyToken: string;

  before(async () => {
    idp = await startIdp();
    attacker = await startIdp();
    gw = await startTestGateway({ db: await openPglite('memory:'), trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    removedKeyToken = await idp.token({ sub: 'p', ...patientClaims() });
  });
  after(async () => {
    await gw.close();
    await idp.close();
    await attacker.close();
    await gw.services.db.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const good = () => idp.token({ sub: 'p', ...patientClaims() });

  const patientCases: [string, () => Promise<string>, number][] = [
    ['alg none', () => idp.token({}, { alg: 'none' }), 401],
    ['HS256 signed with the public key', () => idp.token({}, { alg: 'HS256' }), 401],
    ['jku header pointing at the attacker', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, header: { jku: attacker.jwksUri } }), 401],
    ['x5u header pointing at the attacker', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, header: { x5u: `${attacker.issuer}/cert.pem` } }), 401],
    ['embedded jwk header', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, kid: idp.kid(), header: { jwk: attacker.publicJwk() } }), 401],
    ['x5c header with the attacker key', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, kid: idp.kid(), header: { x5c: ['MIIBfake'] } }), 401],
    ['kid path traversal', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, kid: '../../../../dev/null' }), 401],
    ['kid SQL injection', () => attacker.token({}, { iss: idp.issuer, aud: idp.audience, kid: "x' OR '1'='1" }), 401],
    ['unknown crit header', () => idp.token({}, { header: { crit: ['urn:example:unknown'], 'urn:example:unknown': true } }), 401],
    ['expired', () => idp.token({}, { exp: now() - 3600, iat: now() - 7200 }), 401],
    ['not yet valid (nbf in the future)', () => idp.token({}, { nbf: now() + 600 }), 401],
    ['wrong audience', () => idp.token({}, { aud: 'another-app' }), 401],
    ['wrong issuer', () => attacker.token({}, { aud: idp.audience }), 401],
    ['stripped signature', async () => (await good()).replace(/\.[^.]+$/, '.'), 401],
    ['signature from another token', async () => `${(await good()).split('.').slice(0, 2).join('.')}.${(await attacker.token()).split('.')[2]}`, 401],
    ['header swapped to alg none', async () => resign(await good(), { alg: 'none', typ: 'JWT' }), 401],
    ['header alg downgraded to HS256', async () => resign(await good(), { ...decodeProtectedHeader(await good()), alg: 'HS256' }), 401],
    ['IAL1', () => idp.token({ sub: 'p', ...patientClaims(), acr: IAL1_ACR }), 403],
    ['AAL1 (password only)', () => idp.token({ sub: 'p', ...patientClaims(), acr: undefined, amr: ['pwd'] }), 403],
    ['not a JWT at all', async () => 'eyJhbGciOi.broken', 401],
  ];

  for (const [name, make, status] of patientCases) {
    test(`patient token: ${name} → ${status}`, async () => {
      const token = await make();
      const r = await request(gw.app).get(VISIT).auth(token, { type: 'bearer' });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.ok(!r.text.includes(token), 'the token is never echoed');
    });
  }

  test('a valid IAL2/AAL2 token passes the guard (control)', async () => {
    const r = await request(gw.app)
      .get(VISIT)
      .auth(await good(), { type: 'bearer' });
    assert.equal(r.status, 404, 'authenticated; the visit simply does not exist');
  });

  // Last, since it retires the IdP's keys: a token signed with a key no longer published is refused.
  test('patient token: from a key the IdP removed → 401', async () => {
    await idp.rotate({ retireOld: true });
    // A fresh gateway has no cached JWKS, so it sees the rotated set at once (no 30 s refetch wait).
    const fresh = await startTestGateway({ db: gw.services.db, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    const r = await request(fresh.app).get(VISIT).auth(removedKeyToken, { type: 'bearer' });
    assert.equal(r.status, 401, JSON.stringify(r.body));
    const rotated = await request(fresh.app)
      .get(VISIT)
      .auth(await good(), { type: 'bearer' });
    assert.equal(rotated.status, 404, 'tokens from the new key pass');
  });

  const gatewayIssuer = () => gw.services.config.publicBaseUrl;
  const clientCases: [string, () => Promise<string>, number][] = [
    [
      'client token with alg none',
      async () =>
        `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify({ iss: gatewayIssuer(), aud: gatewayIssuer(), sub: 'x', org: 'Clinic A', scope: 'system/*.*', exp: now() + 60 }))}.`,
      401,
    ],
    [
      'client token HS256-signed with the gateway public key',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(gw.services.keys.jwks().keys[0]));
        return new SignJWT({ org: 'Clinic A', scope: 'system/*.*' })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setIssuer(gatewayIssuer())
          .setAudience(gatewayIssuer())
          .setSubject('x')
          .setExpirationTime('1m')
          .sign(secret);
      },
      401,
    ],
    [
      'client token with a forged org claim',
      async () => resign(await gw.clientToken({ clientId: 'a', organization: 'Clinic A', scopes: ['system/AuditEvent.read'] }), { alg: 'ES256', typ: 'at+jwt', kid: 'forged' }),
      401,
    ],
    ['client token without the needed scope', () => gw.clientToken({ clientId: 'a', organization: 'Clinic A', scopes: ['system/checkin.read'] }), 403],
  ];
  for (const [name, make, status] of clientCases) {
    test(`${name} → ${status}`, async () => {
      const r = await request(gw.app)
        .get('/fhir/AuditEvent')
        .auth(await make(), { type: 'bearer' });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
    });
  }
});
