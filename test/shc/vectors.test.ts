import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import QRCode from 'qrcode';
import { ManualClock } from '../../src/clock.js';
import { httpAnswer } from '../helpers/http-answer.js';
import type { GuardedFetch } from '../../src/net/types.js';
import { cardsFromInput } from '../../src/shc/card-input.js';
import { encodeNumericQr, parseQrText } from '../../src/shc/numeric-qr.js';
import { renderCardQr } from '../../src/shc/render-qr.js';
import { createShcVerifier } from '../../src/shc/verify.js';
import { SHC_EXAMPLE_TIME, SHC_VECTORS, readVector } from '../helpers/fixtures.js';

const ISS = 'https://spec.smarthealth.cards/examples/issuer';
const jwks = JSON.parse(readVector(SHC_VECTORS, 'issuer.jwks.public.json')) as { keys: JWK[] };
const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();
const qr = readVector(SHC_VECTORS, 'example-00-f-qr-code-numeric-value-0.txt').trim();
const file = JSON.parse(readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card')) as { verifiableCredential: string[] };
const minified = readVector(SHC_VECTORS, 'example-00-c-jws-payload-minified.json');
const bundle = JSON.parse(readVector(SHC_VECTORS, 'example-00-a-fhirBundle.json')) as unknown;

// The example issuer is not on loopback: these tests must never reach it.
const noNetwork: GuardedFetch = async (url) => assert.fail(`unexpected fetch of ${url}`);

function verifier() {
  return createShcVerifier({
    trust: { shcIssuers: [{ iss: ISS, jwks, name: 'SMART example issuer' }], acceptUnknownShcIssuers: false },
    fetch: noNetwork,
    clock: new ManualClock(SHC_EXAMPLE_TIME),
  });
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    const answer = httpAnswer(e);
    if (answer) return answer.status;
    throw e;
  }
  return 200;
}

describe('SMART Health Card spec example 00', () => {
  test('the numeric QR decodes to exactly the example JWS, and the JWS encodes back to the QR', () => {
    assert.deepEqual(parseQrText(qr), { kind: 'whole', jws });
    assert.equal(encodeNumericQr(jws), qr);
  });

  test('the header kid is the RFC 7638 thumbprint of the issuer key', async () => {
    const { kid } = decodeProtectedHeader(jws);
    const key = jwks.keys.find((k) => k.kid === kid)!;
    assert.equal(await calculateJwkThumbprint({ kty: key.kty!, crv: key.crv!, x: key.x!, y: key.y! }, 'sha256'), kid);
  });

  test('the payload inflates (raw DEFLATE) to the minified payload byte for byte', () => {
    assert.equal(inflateRawSync(Buffer.from(jws.split('.')[1]!, 'base64url')).toString('utf8'), minified);
  });

  test('verifies at 2023-06-23 against the inline JWKS: trusted issuer, the example Bundle, no network', async () => {
    const card = await verifier().verify(jws);
    assert.equal(card.verified, true);
    assert.equal(card.issuer, ISS);
    assert.equal(card.issuerName, 'SMART example issuer');
    assert.equal(card.kid, '3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s');
    assert.equal(card.nbf, 1687450764.656);
    assert.deepEqual(card.bundle, bundle);
    assert.deepEqual(
      card.bundle.entry!.map((e) => e.fullUrl),
      ['resource:0', 'resource:1', 'resource:2', 'resource:3'],
    );
    assert.deepEqual(card.payload, JSON.parse(minified));
  });

  test('the QR list, the .smart-health-card file and the bare JWS all give the same card', async () => {
    assert.deepEqual(cardsFromInput(file), [jws]);
    assert.deepEqual(cardsFromInput([qr]), [jws]);
    assert.deepEqual(cardsFromInput(` ${jws}\n`), [jws]);
    const v = verifier();
    for (const input of [[qr], file, jws]) {
      const cards = await v.verifyInput(input);
      assert.equal(cards.length, 1);
      assert.equal(cards[0]!.jws, jws);
      assert.equal(cards[0]!.verified, true);
    }
  });

  test('several whole-card QRs give several cards; empty or non-string input is refused (400)', async () => {
    assert.deepEqual(cardsFromInput([qr, ` ${qr}`]), [jws, jws]);
    for (const bad of [[], [''], [42], { verifiableCredential: [] }, { verifiableCredential: 'x' }, {}] as unknown[]) {
      assert.equal(await status((async () => cardsFromInput(bad as string[]))()), 400, JSON.stringify(bad));
    }
  });

  test('a flipped signature byte is refused (422)', async () => {
    const [h, p, s] = jws.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[17] = sig[17]! ^ 0x01;
    assert.equal(await status(verifier().verify(`${h}.${p}.${sig.toString('base64url')}`)), 422);
  });

  test('a flipped QR digit pair in the payload or the signature is refused', async () => {
    for (const at of [5 + 2 * 300, qr.length - 40]) {
      const pair = qr.slice(at, at + 2);
      const other = pair === '10' ? '11' : '10';
      const flipped = qr.slice(0, at) + other + qr.slice(at + 2);
      assert.equal(await status(verifier().verifyInput([flipped])), 422, `pair at ${at}`);
    }
  });

  test('a QR with an odd digit count, a pair above 77 or a non-digit is refused (400)', async () => {
    for (const bad of [`${qr}1`, `shc:/78${qr.slice(7)}`, `shc:/5a${qr.slice(7)}`, 'shc:/']) {
      assert.equal(await status(verifier().verifyInput([bad])), 400, bad.slice(0, 12));
    }
  });

  test('the QR drawn from the numeric text is the published one, byte mode then numeric mode, level L', async () => {
    const { svg, png } = await renderCardQr(qr);
    assert.equal(svg.trim(), readVector(SHC_VECTORS, 'example-00-g-qr-code-0.svg').trim());
    assert.match(png, /^data:image\/png;base64,/);
    const code = QRCode.create(
      [
        { mode: 'byte', data: Buffer.from('shc:/') },
        { mode: 'numeric', data: qr.slice(5) },
      ],
      { errorCorrectionLevel: 'L' },
    );
    assert.ok(code.version <= 22);
    assert.deepEqual(
      code.segments.map((s) => s.mode.id),
      ['Byte', 'Numeric'],
    );
  });
});
