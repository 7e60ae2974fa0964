import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HttpError } from '../../src/http/http-error.js';
import { assertNotExpired, buildShlink, hasFlag, parseShlink, type ShLink } from '../../src/shl/link.js';
import { SHL_VECTORS, readVector } from '../helpers/fixtures.js';
import { httpAnswer } from '../helpers/http-answer.js';

const open = { allowlist: [] as string[] };
const KEY = 'rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q';
const link = (payload: unknown) => `shlink:/${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
const valid = { url: 'https://ehr.example.org/qr/abc', key: KEY };

function refused(text: string, status: number, code: string, policy = open): HttpError {
  try {
    parseShlink(text, policy);
  } catch (err) {
    const e = httpAnswer(err);
    assert.ok(e, String(err));
    assert.equal(e.status, status, e.message);
    assert.equal(e.outcome.issue?.[0]?.code, code);
    return e;
  }
  assert.fail('expected the link to be refused');
}

describe('IG example link', () => {
  const payload = JSON.parse(readVector(SHL_VECTORS, 'ig-link-payload.json')) as Record<string, string>;

  test('parses bare and behind a viewer URL to the published payload', () => {
    for (const file of ['ig-link.txt', 'ig-link-with-viewer.txt']) {
      const l = parseShlink(readVector(SHL_VECTORS, file), open);
      assert.deepEqual(l, { url: payload.url, key: payload.key, flag: 'LP', label: payload.label, v: 1 });
      assert.ok(hasFlag(l, 'P') && hasFlag(l, 'L') && !hasFlag(l, 'U'));
    }
  });

  test('building from its fields gives the IG link byte for byte', () => {
    const built = buildShlink({ url: payload.url!, key: payload.key!, flag: 'PL', label: payload.label! });
    assert.equal(built, readVector(SHL_VECTORS, 'ig-link.txt').trim());
    assert.equal(
      buildShlink({ url: payload.url!, key: payload.key!, flag: 'LP', label: payload.label! }, 'https://viewer.example.org'),
      readVector(SHL_VECTORS, 'ig-link-with-viewer.txt').trim(),
    );
  });
});

describe('SDK links (http://localhost, exp in the past)', () => {
  for (const name of ['sdk-p', 'sdk-u']) {
    const text = readVector(SHL_VECTORS, `${name}-link.txt`);
    const payload = JSON.parse(readVector(SHL_VECTORS, `${name}-payload.json`)) as ShLink;

    test(`${name}: refused when localhost is not allowlisted (SSRF policy), parsed when it is`, () => {
      const e = refused(text, 422, 'security');
      assert.ok(!e.message.includes(new URL(payload.url).pathname), 'diagnostics do not echo the URL path');
      const l = parseShlink(text, { allowlist: ['localhost:8090'] });
      assert.equal(l.url, payload.url);
      assert.equal(l.key, payload.key);
      assert.equal(l.exp, 1704096000);
    });

    test(`${name}: its exp is refused with the real clock and accepted at 2023-06-01`, () => {
      const l = parseShlink(text, { allowlist: ['localhost'] });
      assert.throws(
        () => assertNotExpired(l, Date.now()),
        (e) => httpAnswer(e)?.status === 410,
      );
      assert.doesNotThrow(() => assertNotExpired(l, Date.UTC(2023, 5, 1)));
    });
  }
  test('the sdk-p viewer form parses like the bare link', () => {
    assert.deepEqual(
      parseShlink(readVector(SHL_VECTORS, 'sdk-p-link-with-viewer.txt'), { allowlist: ['localhost'] }),
      parseShlink(readVector(SHL_VECTORS, 'sdk-p-link.txt'), { allowlist: ['localhost'] }),
    );
  });
});

describe('our rules', () => {
  test('U with P is refused', () => {
    refused(link({ ...valid, flag: 'PU' }), 422, 'processing');
  });
  test('a key that is not 43 base64url characters is refused, without echoing it', () => {
    for (const key of [KEY.slice(1), `${KEY}A`, `${KEY.slice(1)}+`, 12]) {
      const e = refused(link({ ...valid, key }), 422, 'processing');
      if (typeof key === 'string') assert.ok(!e.message.includes(key));
    }
  });
  test('url over 128 characters, or not https, is refused', () => {
    refused(link({ ...valid, url: `https://ehr.example.org/${'a'.repeat(105)}` }), 422, 'processing');
    assert.doesNotThrow(() => parseShlink(link({ ...valid, url: `https://ehr.example.org/${'a'.repeat(104)}` }), open));
    refused(link({ ...valid, url: 'http://ehr.example.org/x' }), 422, 'security');
    refused(link({ ...valid, url: 'ftp://ehr.example.org/x' }), 422, 'security');
    refused(link({ ...valid, url: 'not a url' }), 422, 'processing');
    refused(link({ key: KEY }), 422, 'processing');
  });
  test('plain http is accepted only for an allowlisted host (and port)', () => {
    const l = link({ ...valid, url: 'http://127.0.0.1:8090/m/x' });
    assert.equal(parseShlink(l, { allowlist: ['127.0.0.1'] }).url, 'http://127.0.0.1:8090/m/x');
    assert.equal(parseShlink(l, { allowlist: ['127.0.0.1:8090'] }).url, 'http://127.0.0.1:8090/m/x');
    refused(l, 422, 'security', { allowlist: ['127.0.0.1:8091'] });
  });
  test('label over 80 characters is refused', () => {
    refused(link({ ...valid, label: 'x'.repeat(81) }), 422, 'processing');
    assert.equal(parseShlink(link({ ...valid, label: 'x'.repeat(80) }), open).label?.length, 80);
  });
  test('v above 1 is refused as not supported; v 1 is fine', () => {
    refused(link({ ...valid, v: 2 }), 422, 'not-supported');
    refused(link({ ...valid, v: 'one' }), 422, 'processing');
    assert.equal(parseShlink(link({ ...valid, v: 1 }), open).v, 1);
  });
  test('unknown flags and properties are ignored', () => {
    const l = parseShlink(link({ ...valid, flag: 'LPZ', extension: { x: 1 }, _local: true }), open);
    assert.ok(hasFlag(l, 'P') && hasFlag(l, 'L'));
    assert.equal(l.flag, 'LPZ');
  });
  test('malformed text is a 422, never a crash', () => {
    for (const text of [
      '',
      'shlink:/',
      'shlink:/!!!',
      'https://viewer.example/#nothing',
      `shlink:/${Buffer.from('[1]').toString('base64url')}`,
      `shlink:/${Buffer.from('{').toString('base64url')}`,
      'shlink:/'.padEnd(5000, 'A'),
    ]) {
      refused(text, 422, 'processing');
    }
    refused(link({ ...valid, exp: '2030' }), 422, 'processing');
    refused(link({ ...valid, flag: 5 }), 422, 'processing');
  });
});
