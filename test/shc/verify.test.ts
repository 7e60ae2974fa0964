import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deflateRawSync, deflateSync } from 'node:zlib';
import type { JWK } from 'jose';
import { ManualClock } from '../../src/clock.js';
import type { ShcIssuerConfig } from '../../src/config.js';
import { httpAnswer } from '../helpers/http-answer.js';
import { createGuardedFetch } from '../../src/net/guarded-fetch.js';
import type { GuardedFetch } from '../../src/net/types.js';
import { checkIssuerKey } from '../../src/shc/issuer-key.js';
import { RevocationLists } from '../../src/shc/revocation.js';
import { MAX_CARDS_PER_INPUT } from '../../src/shc/card-input.js';
import { createShcVerifier, type ShcVerifierOptions } from '../../src/shc/verify.js';
import { SHC_VECTORS, readVector } from '../helpers/fixtures.js';
import { cardPayload, issuerKey, minimalBundle, signCard, startIssuerHost, type IssuerHost, type IssuerKey } from './card-issuer.js';

const NOW = Date.UTC(2025, 0, 15, 12);
const nowS = NOW / 1000;
const ISS = 'https://issuer.test/shc';
const noNetwork: GuardedFetch = async (url) => assert.fail(`unexpected fetch of ${url}`);

async function refusal(p: Promise<unknown>): Promise<{ status: number; diagnostics: string }> {
  try {
    await p;
  } catch (e) {
    const answer = httpAnswer(e);
    if (answer) return { status: answer.status, diagnostics: answer.outcome.issue?.[0]?.diagnostics ?? '' };
    throw e;
  }
  return assert.fail('expected a refusal');
}

describe('SHC verification with an inline issuer', () => {
  let key: IssuerKey;
  let issuer: ShcIssuerConfig;
  const make = (over: Partial<ShcVerifierOptions> = {}) =>
    createShcVerifier({ trust: { shcIssuers: [issuer], acceptUnknownShcIssuers: false }, fetch: noNetwork, clock: new ManualClock(NOW), ...over });

  before(async () => {
    key = await issuerKey();
    issuer = { iss: ISS, jwks: { keys: [key.publicJwk as Record<string, unknown>] } };
  });

  test('a well-formed card verifies and yields its Bundle', async () => {
    const card = await make().verify(await signCard(key, cardPayload(ISS, nowS - 3600)));
    assert.equal(card.verified, true);
    assert.equal(card.kid, key.kid);
    assert.deepEqual(card.bundle, minimalBundle);
  });

  test('a kid the known issuer does not publish is refused (422)', async () => {
    const stranger = await issuerKey();
    const r = await refusal(make().verify(await signCard(stranger, cardPayload(ISS, nowS))));
    assert.equal(r.status, 422);
    assert.match(r.diagnostics, /unknown kid/);
  });

  test('a card naming one trusted issuer but signed with another trusted issuer key is refused (iss must match the verifying key)', async () => {
    const other = await issuerKey();
    const otherIssuer = { iss: 'https://other.test', jwks: { keys: [other.publicJwk as Record<string, unknown>] } };
    const v = make({ trust: { shcIssuers: [issuer, otherIssuer], acceptUnknownShcIssuers: false } });
    assert.equal((await refusal(v.verify(await signCard(other, cardPayload(ISS, nowS))))).status, 422);
  });

  test('a small payload inflating past 5 MB is refused (413) without inflating it all', async () => {
    const bomb = deflateRawSync(Buffer.alloc(6 * 1024 * 1024, 0x20), { level: 9 });
    assert.ok(bomb.length < 10_000);
    assert.equal((await refusal(make().verify(await signCard(key, bomb)))).status, 413);
  });

  test(`an input of up to ${MAX_CARDS_PER_INPUT} cards verifies; one more is refused (413) before any is opened; one forgery among them refuses the input`, async () => {
    const jws = await signCard(key, cardPayload(ISS, nowS - 3600));
    assert.equal((await make().verifyInput(Array(MAX_CARDS_PER_INPUT).fill(jws))).length, MAX_CARDS_PER_INPUT);
    const tooMany = await refusal(make().verifyInput({ verifiableCredential: Array(MAX_CARDS_PER_INPUT + 1).fill(jws) }));
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.diagnostics, /at most 50/);
    const forged = `${jws.slice(0, -4)}${jws.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.equal((await refusal(make().verifyInput([jws, forged, jws]))).status, 422);
  });

  test('the inflate cap is a parameter', async () => {
    const jws = await signCard(key, cardPayload(ISS, nowS));
    assert.equal((await refusal(make({ maxInflatedBytes: 100 }).verify(jws))).status, 413);
  });

  test('a zlib-wrapped payload is refused (422)', async () => {
    const wrapped = deflateSync(JSON.stringify(cardPayload(ISS, nowS)));
    assert.equal((await refusal(make().verify(await signCard(key, wrapped)))).status, 422);
  });

  test('nbf in the future is refused (422); within the 60 s skew it passes', async () => {
    assert.equal((await refusal(make().verify(await signCard(key, cardPayload(ISS, nowS + 3600))))).status, 422);
    assert.equal((await make().verify(await signCard(key, cardPayload(ISS, nowS + 30)))).verified, true);
  });

  test('exp in the past, and exp not after nbf, are refused (422); a future exp passes', async () => {
    assert.equal((await refusal(make().verify(await signCard(key, cardPayload(ISS, nowS - 7200, { exp: nowS - 60 }))))).status, 422);
    assert.equal((await refusal(make().verify(await signCard(key, cardPayload(ISS, nowS - 60, { exp: nowS - 60 }))))).status, 422);
    assert.equal((await make().verify(await signCard(key, cardPayload(ISS, nowS - 60, { exp: nowS + 3600 })))).verified, true);
  });

  test('an unknown issuer is refused (422) when policy is off, and passes unverified when on, with no fetch', async () => {
    const stranger = await issuerKey();
    const jws = await signCard(stranger, cardPayload('https://unknown.test', nowS));
    assert.equal((await refusal(make().verify(jws))).status, 422);
    const card = await make({ trust: { shcIssuers: [issuer], acceptUnknownShcIssuers: true } }).verify(jws);
    assert.equal(card.verified, false);
    assert.equal(card.issuer, 'https://unknown.test');
    assert.deepEqual(card.bundle, minimalBundle);
  });

  test('header rules: alg ES256, zip DEF and a kid are required, and the signature is 64-byte r||s', async () => {
    const jws = await signCard(key, cardPayload(ISS, nowS));
    const [, p, s] = jws.split('.') as [string, string, string];
    const withHeader = (h: object, sig = s) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${p}.${sig}`;
    for (const h of [
      { alg: 'ES384', zip: 'DEF', kid: key.kid },
      { alg: 'ES256', kid: key.kid },
      { alg: 'ES256', zip: 'DEF' },
    ]) {
      assert.equal((await refusal(make().verify(withHeader(h)))).status, 422, JSON.stringify(h));
    }
    const der = Buffer.alloc(71, 1).toString('base64url');
    assert.match((await refusal(make().verify(withHeader({ alg: 'ES256', zip: 'DEF', kid: key.kid }, der)))).diagnostics, /64-byte/);
    for (const bad of ['a.b', 'a.b.c.d', `\uFEFF${jws}`, 'e30.e30.!!']) assert.equal((await refusal(make().verify(bad))).status, 400);
  });

  test('payload rules: JSON, the health-card type, fhirVersion and a Bundle are required', async () => {
    const bad: Buffer[] = [
      deflateRawSync('not json'),
      deflateRawSync(JSON.stringify(cardPayload(ISS, nowS, {}, { type: ['https://smarthealth.cards#immunization'] }))),
      deflateRawSync(JSON.stringify(cardPayload(ISS, nowS, {}, { credentialSubject: { fhirBundle: minimalBundle } }))),
      deflateRawSync(JSON.stringify(cardPayload(ISS, nowS, {}, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: { resourceType: 'Patient' } } }))),
      deflateRawSync(JSON.stringify(cardPayload(ISS, nowS, { nbf: undefined }))),
    ];
    for (const payload of bad) assert.equal((await refusal(make().verify(await signCard(key, payload)))).status, 422);
    const extraTypes = cardPayload(ISS, nowS, {}, { type: ['https://smarthealth.cards#health-card', 'https://smarthealth.cards#covid19', 'https://example.org/new'] });
    assert.equal((await make().verify(await signCard(key, extraTypes))).verified, true, 'unknown extra types are ignored');
  });

  test('key rules (§4): EC P-256, no d, kid = thumbprint, x5c carrying the same key', async () => {
    const keyWith = (extra: Partial<JWK>) => checkIssuerKey({ ...key.publicJwk, ...extra });
    assert.match((await refusal(keyWith({ d: 'AAAA' }))).diagnostics, /private part/);
    assert.match((await refusal(keyWith({ kid: 'not-the-thumbprint' }))).diagnostics, /thumbprint/);
    assert.match((await refusal(keyWith({ crv: 'P-384' }))).diagnostics, /P-256/);
    assert.match((await refusal(keyWith({ use: 'enc' }))).diagnostics, /use/);
    const spec = (JSON.parse(readVector(SHC_VECTORS, 'issuer.jwks.public.json')) as { keys: JWK[] }).keys;
    const withX5c = spec.find((k) => k.x5c)!;
    await checkIssuerKey(withX5c);
    assert.match((await refusal(keyWith({ x5c: withX5c.x5c }))).diagnostics, /x5c/);
  });
});

describe('SHC issuers on a loopback host: fetched JWKS and revocation lists', () => {
  let host: IssuerHost;
  let fetch: GuardedFetch;
  let key: IssuerKey;
  const clock = new ManualClock(NOW);
  const REVOKED_UNTIL = Math.floor(nowS) - 1000;

  before(async () => {
    host = await startIssuerHost();
    fetch = createGuardedFetch({ allowlist: ['127.0.0.1'] });
    key = await issuerKey({ crlVersion: 1 });
    host.jwks.keys.push(key.publicJwk);
    host.crls.set(key.kid, { kid: key.kid, method: 'rid', ctr: 1, rids: ['revokedRid0', `timedRid000.${REVOKED_UNTIL}`] });
  });
  after(() => host.close());

  const verifier = () => createShcVerifier({ trust: { shcIssuers: [{ iss: host.iss, fetchJwks: true }], acceptUnknownShcIssuers: false }, fetch, clock });
  const card = (rid: string | undefined, nbf = nowS - 3600) => signCard(key, cardPayload(host.iss, nbf, {}, rid ? { rid } : {}));
  const crlPath = () => `/.well-known/crl/${key.kid}.json`;

  test('keys come from <iss>/.well-known/jwks.json, fetched once and reused', async () => {
    const v = verifier();
    for (let i = 0; i < 3; i++) assert.equal((await v.verify(await card(undefined))).verified, true);
    assert.equal(host.hits.get('/.well-known/jwks.json'), 1);
  });

  test('revocation: a listed rid is refused, rid.<t> only for cards issued before t, others pass; the list is fetched once', async () => {
    const v = verifier();
    const before = host.hits.get(crlPath()) ?? 0;
    assert.match((await refusal(v.verify(await card('revokedRid0')))).diagnostics, /revoked/);
    assert.equal((await refusal(v.verify(await card('timedRid000', REVOKED_UNTIL - 1)))).status, 422);
    assert.equal((await v.verify(await card('timedRid000', REVOKED_UNTIL))).verified, true);
    assert.equal((await v.verify(await card('goodRid0000'))).verified, true);
    assert.equal(host.hits.get(crlPath()), before + 1);
  });

  test('a new crlVersion in the refreshed JWKS brings the new list; an unchanged one reuses the cached list', async () => {
    const v = verifier();
    assert.equal((await v.verify(await card('goodRid0000'))).verified, true);
    const hits = host.hits.get(crlPath());
    key.publicJwk.crlVersion = 2;
    host.crls.set(key.kid, { kid: key.kid, method: 'rid', ctr: 2, rids: ['revokedRid0', 'goodRid0000'] });
    assert.equal((await v.verify(await card('goodRid0000'))).verified, true, 'JWKS still cached: crlVersion 1, cached list');
    assert.equal(host.hits.get(crlPath()), hits);
    clock.advance(11 * 60_000);
    assert.equal((await refusal(v.verify(await card('goodRid0000')))).status, 422);
    assert.equal(host.hits.get(crlPath()), (hits ?? 0) + 1);
  });

  test('an unreachable revocation list fails closed (502)', async () => {
    host.crls.delete(key.kid);
    const v = verifier();
    assert.equal((await refusal(v.verify(await card('anyRid00000')))).status, 502);
    host.crls.set(key.kid, { kid: key.kid, method: 'rid', ctr: 2, rids: [] });
  });

  test('a key added to the issuer JWKS is found by refetching on its unknown kid', async () => {
    const v = verifier();
    await v.verify(await card(undefined));
    const rotated = await issuerKey();
    host.jwks.keys.push(rotated.publicJwk);
    clock.advance(31_000);
    assert.equal((await v.verify(await signCard(rotated, cardPayload(host.iss, nowS)))).kid, rotated.kid);
  });

  test('the spec example revocation list: vwAjHdarZuc.1687450765 revokes example 03, MKyCxh7p6uQ (example 00) stays valid', async () => {
    const kid = '3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s';
    host.crls.set(kid, JSON.parse(readVector(SHC_VECTORS, `crl/${kid}.json`)));
    const lists = new RevocationLists(fetch, clock);
    const check = (rid: string, nbf: number) => lists.isRevoked({ iss: host.iss, kid, crlVersion: 1, rid, nbf });
    assert.equal(await check('vwAjHdarZuc', 1687450764.657), true);
    assert.equal(await check('vwAjHdarZuc', 1687450765), false);
    assert.equal(await check('TqB_qu_6OtM', 1e10), true);
    assert.equal(await check('MKyCxh7p6uQ', 1687450764.656), false);
  });
});
