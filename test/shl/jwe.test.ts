import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { CompactEncrypt, decodeProtectedHeader } from 'jose';
import { httpAnswer } from '../helpers/http-answer.js';
import { decryptFile, encryptFile, keyBytes } from '../../src/shl/jwe.js';
import { SHL_VECTORS, readVector } from '../helpers/fixtures.js';

const payloadKey = (name: string) => keyBytes((JSON.parse(readVector(SHL_VECTORS, `${name}-payload.json`)) as { key: string }).key);

async function rejects(p: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => httpAnswer(e)?.status === status);
}

describe('spec vectors', () => {
  test('ig-file-0.jwe decrypts byte for byte to the IG plaintext, cty application/smart-health-card', async () => {
    const file = await decryptFile(readVector(SHL_VECTORS, 'ig-file-0.jwe'), payloadKey('ig-link'));
    assert.equal(file.contentType, 'application/smart-health-card');
    assert.equal(file.content, readVector(SHL_VECTORS, 'ig-file-0.plain.smart-health-card'));
  });

  for (const [link, files] of [
    ['sdk-p', ['sdk-p-file-0', 'sdk-p-file-1']],
    ['sdk-u', ['sdk-u-file-0']],
  ] as const) {
    for (const name of files) {
      test(`${name}.jwe (kid, no cty) decrypts to its plaintext`, async () => {
        const jwe = readVector(SHL_VECTORS, `${name}.jwe`);
        assert.ok(decodeProtectedHeader(jwe).kid && !decodeProtectedHeader(jwe).cty);
        const file = await decryptFile(jwe, payloadKey(link));
        assert.equal(file.contentType, undefined);
        assert.equal(file.content, readVector(SHL_VECTORS, `${name}.plain.smart-health-card`));
      });
    }
  }

  test('a vector under the wrong link key is 422', () => rejects(decryptFile(readVector(SHL_VECTORS, 'ig-file-0.jwe'), payloadKey('sdk-p')), 422));
});

describe('encrypt', () => {
  const key = randomBytes(32);

  test('header is exactly {alg dir, enc A256GCM, cty}; the encrypted-key segment is empty', async () => {
    const jwe = await encryptFile('{"resourceType":"Bundle"}', key, 'application/fhir+json');
    assert.deepEqual(decodeProtectedHeader(jwe), { alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' });
    assert.equal(jwe.split('.')[1], '');
    assert.deepEqual(await decryptFile(jwe, key), { contentType: 'application/fhir+json', content: '{"resourceType":"Bundle"}' });
  });

  test('every encryption draws a fresh IV', async () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) ivs.add((await encryptFile('same', key, 'application/fhir+json')).split('.')[2]!);
    assert.equal(ivs.size, 50);
  });

  test('zip DEF round trip (non-ASCII text kept)', async () => {
    const content = JSON.stringify({ resourceType: 'Bundle', note: 'café ✓ '.repeat(500) });
    const jwe = await encryptFile(content, key, 'application/fhir+json', { zip: true });
    assert.equal(decodeProtectedHeader(jwe).zip, 'DEF');
    assert.ok(jwe.length < content.length);
    assert.equal((await decryptFile(jwe, key)).content, content);
  });
});

/** A dir/A256GCM compact JWE of exactly these plaintext bytes (jose would deflate a zip DEF plaintext itself, and checks what it writes). */
function rawJwe(header: object, plaintext: Uint8Array, key: Uint8Array, iv = randomBytes(12)): string {
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(encodedHeader));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [encodedHeader, '', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

describe('decrypt refusals', () => {
  const key = randomBytes(32);
  const dir = { alg: 'dir', enc: 'A256GCM' };

  test('inflating beyond the cap is 413; up to the cap is fine', async () => {
    const jwe = await encryptFile('a'.repeat(2_000_000), key, 'application/fhir+json', { zip: true });
    await rejects(decryptFile(jwe, key, 1_000_000), 413);
    assert.equal((await decryptFile(jwe, key, 2_000_000)).content.length, 2_000_000);
  });

  test('tampered ciphertext, header or tag is 422', async () => {
    const jwe = await encryptFile('{"a":1}', key, 'application/fhir+json');
    const [h, , iv, ct, tag] = jwe.split('.') as [string, string, string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const bad of [
      [h, '', iv, flip(ct), tag],
      [h, '', iv, ct, flip(tag)],
      [Buffer.from('{"alg":"dir","enc":"A256GCM","cty":"x"}').toString('base64url'), '', iv, ct, tag],
    ]) {
      await rejects(decryptFile(bad.join('.'), key), 422);
    }
  });

  test('other algorithms, malformed text and non-UTF-8 plaintext are 422', async () => {
    const kw = await new CompactEncrypt(new TextEncoder().encode('x')).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' }).encrypt(key);
    await rejects(decryptFile(kw, key), 422);
    for (const text of ['', 'a.b', 'a..b.c.d', '....']) await rejects(decryptFile(text, key), 422);
    const binary = await new CompactEncrypt(new Uint8Array([0xff, 0xfe, 0x00])).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    await rejects(decryptFile(binary, key), 422);
  });

  test('a zip DEF file whose plaintext is not raw DEFLATE, a critical extension, or an IV other than 96 bits is 422', async () => {
    const text = new TextEncoder().encode('{"a":1}');
    assert.equal((await decryptFile(rawJwe({ ...dir, zip: 'DEF' }, deflateRawSync(text), key), key)).content, '{"a":1}');
    await rejects(decryptFile(rawJwe({ ...dir, zip: 'DEF' }, text, key), key), 422);
    await rejects(decryptFile(rawJwe({ ...dir, crit: ['exp'], exp: 1 }, text, key), key), 422);
    await rejects(decryptFile(rawJwe(dir, text, key, randomBytes(16)), key), 422);
  });
});
