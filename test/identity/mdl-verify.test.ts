import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { cborEncode } from '@auth0/mdl/lib/cbor/index.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError, parseTrustFile } from '../../src/config.js';
import { DomainError } from '../../src/errors.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { dcApiRequest } from '../../src/identity/mdl/request.js';
import { dcApiSessionTranscript } from '../../src/identity/mdl/session-transcript.js';
import { loadTrustAnchors, type TrustAnchor } from '../../src/identity/mdl/trust-anchors.js';
import { verifyDeviceResponse } from '../../src/identity/mdl/verify-presentation.js';
import { ALICE, issueMdl, makeIaca, present, selfCheck, tamper, type TestIaca, type TestMdl } from './mdl-wallet.js';

const vector = JSON.parse(readFileSync(new URL('../vectors/openid4vp/dc-api-session-transcript.json', import.meta.url), 'utf8')) as Record<string, string>;
const ORIGIN = 'https://gateway.example';
const DAY = 24 * 3600_000;

describe('OpenID4VP 1.0 DC API SessionTranscript', () => {
  it('matches the specification example byte for byte (with and without the key thumbprint)', () => {
    const t = dcApiSessionTranscript(vector.origin!, vector.nonce!, Buffer.from(vector.jwkThumbprintHex!, 'hex'));
    assert.equal(Buffer.from(cborEncode(t)).toString('hex'), vector.sessionTranscriptHex);
    assert.equal(Buffer.from(cborEncode(t[2])).toString('hex'), vector.handoverHex);
    const unencrypted = dcApiSessionTranscript(vector.origin!, vector.nonce!);
    assert.notEqual(Buffer.from(cborEncode(unencrypted)).toString('hex'), vector.sessionTranscriptHex);
  });
});

describe('mDL DeviceResponse verification', () => {
  const clock = new ManualClock(Date.now());
  let iaca: TestIaca;
  let anchors: TrustAnchor[];
  let mdl: TestMdl;
  const request = dcApiRequest('n-'.padEnd(43, 'x'));
  const verify = (bytes: Uint8Array, over: Partial<{ origin: string; nonce: string; anchors: TrustAnchor[] }> = {}) =>
    verifyDeviceResponse(bytes, { origin: ORIGIN, nonce: request.data.nonce, anchors, clock, ...over });
  const refused = async (p: Promise<unknown>, why: RegExp) => {
    await assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === 'ERR_MDL_PRESENTATION' && httpErrorOf(e).status === 401 && why.test(e.message));
  };

  before(async () => {
    iaca = await makeIaca();
    anchors = await loadTrustAnchors({ trustAnchors: [iaca.pem], ial: 2, aal: 2 });
    mdl = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - DAY), until: new Date(clock.now() + 365 * DAY) });
  });

  it('accepts a presentation the library itself verifies, and reads the requested claims only', async () => {
    const bytes = await present(mdl, request, ORIGIN);
    await selfCheck(bytes, iaca, ORIGIN, request.data.nonce);
    const { claims, anchor } = await verify(bytes);
    assert.deepEqual(claims, {
      familyName: 'Rivera',
      givenName: 'Alice Marie',
      birthDate: '1984-03-02',
      documentNumber: 'D1234567',
      issuingAuthority: 'Test State DMV',
    });
    assert.match(anchor.issuer, /^urn:ktc-gateway:mdl-iaca:[A-Za-z0-9_-]{43}$/);
  });

  it('refuses another nonce, another origin, an untrusted IACA, an expired mDL and a tampered element', async () => {
    const bytes = await present(mdl, request, ORIGIN);
    await refused(verify(bytes, { nonce: 'another-nonce' }), /Device signature must be valid/);
    await refused(verify(bytes, { origin: 'https://evil.example' }), /Device signature must be valid/);
    const other = await makeIaca('Other DMV');
    await refused(verify(bytes, { anchors: await loadTrustAnchors({ trustAnchors: [other.pem], ial: 2, aal: 2 }) }), /Issuer certificate must be valid/);
    const expired = await issueMdl(iaca, ALICE, { from: new Date(clock.now() - 3 * DAY), until: new Date(clock.now() - DAY) });
    await refused(verify(await present(expired, request, ORIGIN)), /not valid now/);
    await refused(verify(tamper(bytes, 'family_name', 'Mallory')), /digest/);
    await refused(verify(Buffer.from('not cbor at all')), /not accepted/);
  });

  it('applies the injected clock to the licence validity window', async () => {
    const bytes = await present(mdl, request, ORIGIN);
    const later = new ManualClock(clock.now() + 400 * DAY);
    await refused(verifyDeviceResponse(bytes, { origin: ORIGIN, nonce: request.data.nonce, anchors, clock: later }), /not valid now/);
  });
});

describe('mdl configuration', () => {
  it('refuses a trust anchor that is not a PEM certificate, naming the field', () => {
    assert.throws(
      () => parseTrustFile(JSON.stringify({ mdl: { trustAnchors: ['-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----'] } }), 'trust.json'),
      (e: unknown) => e instanceof ConfigError && /mdl\.trustAnchors\.0/.test(e.message),
    );
    assert.throws(() => parseTrustFile(JSON.stringify({ mdl: { trustAnchors: [] } }), 'trust.json'), ConfigError);
  });

  it('accepts PEM strings and per-anchor levels', async () => {
    const iaca = await makeIaca();
    const trust = parseTrustFile(JSON.stringify({ mdl: { trustAnchors: [iaca.pem, { certificate: iaca.pem, aal: 1 }] } }), 'trust.json');
    const anchors = await loadTrustAnchors(trust.mdl!);
    assert.deepEqual(
      anchors.map((a) => [a.ial, a.aal]),
      [
        [2, 2],
        [2, 1],
      ],
    );
  });
});
