import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkTarget, createGuardedFetch, type Resolver } from '../../src/net/guarded-fetch.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { outboundFailure } from '../../src/net/outbound-errors.js';
import { OutboundError, type OutboundErrorKind } from '../../src/net/types.js';

/** A resolver that never touches the network: answers from the table, or fails like getaddrinfo. */
function fakeDns(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (host) => {
    calls.push(host);
    const answers = table[host];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function rejectsWith(promise: Promise<unknown>, kind: OutboundErrorKind): Promise<void> {
  const e = await promise.then(
    () => assert.fail(`expected OutboundError ${kind}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof OutboundError, String(e));
  assert.equal(e.kind, kind, e.message);
}

describe('checkTarget decisions (no connections)', () => {
  const noDns: Resolver = async (host) => assert.fail(`IP literals are not resolved (${host})`);

  const refused = [
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.0.1/',
    'https://0.0.0.0/',
    'https://[::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://100.64.0.1/',
    'https://2130706433/', // decimal 127.0.0.1
    'https://0177.0.0.1/', // octal
    'https://0x7f.1/', // hex, short form
    'https://0xa9fea9fe/', // hex 169.254.169.254
    'https://3232235777/', // decimal 192.168.1.1
    'https://127.1/',
  ];
  for (const url of refused) {
    test(`refuses ${url}`, () => rejectsWith(checkTarget(url, [], noDns), 'blocked-address'));
  }

  test('a name resolving to loopback (localhost) is refused', () => rejectsWith(checkTarget('https://localhost/', []), 'blocked-address'));

  test('a name is refused when any of its addresses is forbidden', async () => {
    const dns = fakeDns({ 'internal.test': ['10.1.2.3'], 'mixed.test': ['93.184.215.14', '192.168.0.10'] });
    await rejectsWith(checkTarget('https://internal.test/', [], dns), 'blocked-address');
    await rejectsWith(checkTarget('https://mixed.test/', [], dns), 'blocked-address');
  });

  test('a public name is accepted and pinned to the address that was checked', async () => {
    const calls: string[] = [];
    const target = await checkTarget('https://shl.test/manifest', [], fakeDns({ 'shl.test': ['93.184.215.14', '2606:4700::1111'] }, calls));
    assert.deepEqual([target.url.href, target.address, target.family], ['https://shl.test/manifest', '93.184.215.14', 4]);
    assert.deepEqual(calls, ['shl.test']);
  });

  test('refuses URLs that are not https, carry credentials or do not parse', async () => {
    await rejectsWith(checkTarget('http://shl.test/', [], noDns), 'insecure-scheme');
    await rejectsWith(checkTarget('ftp://shl.test/', [], noDns), 'bad-url');
    await rejectsWith(checkTarget('file:///etc/passwd', [], noDns), 'bad-url');
    await rejectsWith(checkTarget('https://user:secret@shl.test/', [], noDns), 'bad-url');
    await rejectsWith(checkTarget('not a url', [], noDns), 'bad-url');
  });

  test('a DNS failure is kind dns', () => rejectsWith(checkTarget('https://nowhere.test/', [], fakeDns({})), 'dns'));

  test('the allowlist relaxes only the named host (and port): private addresses and plain http', async () => {
    const dns = fakeDns({ 'peer.test': ['10.0.0.7'] });
    assert.equal((await checkTarget('http://peer.test/', ['peer.test'], dns)).address, '10.0.0.7');
    assert.equal((await checkTarget('http://2130706433:8080/', ['127.0.0.1:8080'], noDns)).address, '127.0.0.1');
    await rejectsWith(checkTarget('http://127.0.0.1:8081/', ['127.0.0.1:8080'], noDns), 'insecure-scheme');
    await rejectsWith(checkTarget('https://127.0.0.2/', ['127.0.0.1'], noDns), 'blocked-address');
  });

  test('invalid allowlist entries fail at construction', () => {
    assert.throws(() => createGuardedFetch({ allowlist: ['127.0.0.1:99999'] }), /outboundAllowlist/);
  });
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(host: string, handler: Handler): Promise<{ server: Server; origin: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://${host}:${port}`, port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('guarded fetch against loopback servers', () => {
  let canary: Awaited<ReturnType<typeof listen>>;
  let peer: Awaited<ReturnType<typeof listen>>;
  let other: Awaited<ReturnType<typeof listen>>;
  let canaryConnections = 0;
  const seen: { path: string; method: string; headers: IncomingMessage['headers']; body: string }[] = [];

  const record: Handler = (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
      route(req, res);
    });
  };

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/ok':
        res.setHeader('content-type', 'application/json').end('{"ok":true}');
        return;
      case '/to':
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('u') ?? '/', 'set-cookie': 'sid=1' }).end();
        return;
      case '/chain':
        res.writeHead(302, { location: n > 0 ? `/chain?n=${n - 1}` : '/ok' }).end();
        return;
      case '/hang':
        return;
      case '/stall-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return;
      case '/big':
        res.write(Buffer.alloc(n, 'a'));
        res.end();
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-length': String(n) }).end(Buffer.alloc(n, 'a'));
        return;
      default:
        res.writeHead(404).end();
    }
  }

  before(async () => {
    canary = await listen('127.0.0.2', (_req, res) => res.end('canary'));
    canary.server.on('connection', () => canaryConnections++);
    peer = await listen('127.0.0.1', record);
    other = await listen('127.0.0.1', record);
  });

  after(async () => {
    await Promise.all([close(canary.server), close(peer.server), close(other.server)]);
  });

  const guarded = () => createGuardedFetch({ allowlist: ['127.0.0.1'], defaults: { timeoutMs: 2_000 } });

  test('an allowlisted host is fetched over plain http', async () => {
    const res = await guarded()(`${peer.origin}/ok`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(res.body.toString()), { ok: true });
    assert.equal(res.url, `${peer.origin}/ok`);
  });

  test('the canary on 127.0.0.2 is refused however it is spelled', async () => {
    const fetch = guarded();
    for (const url of [
      `${canary.origin}/`,
      `https://127.0.0.2:${canary.port}/`,
      `http://2130706434:${canary.port}/`,
      `https://2130706434:${canary.port}/`,
      `https://0x7f000002:${canary.port}/`,
      `https://[::ffff:127.0.0.2]:${canary.port}/`,
      `https://[::1]:${canary.port}/`,
      `https://localhost:${canary.port}/`,
    ]) {
      await rejectsWith(fetch(url), url.startsWith('http:') ? 'insecure-scheme' : 'blocked-address');
    }
    assert.equal(canaryConnections, 0);
  });

  test('a redirect from an allowlisted host to the canary is refused at the redirect', async () => {
    const fetch = guarded();
    for (const target of [`${canary.origin}/`, `https://127.0.0.2:${canary.port}/`, `http://2130706434:${canary.port}/`]) {
      const before = seen.length;
      await rejectsWith(fetch(`${peer.origin}/to?u=${encodeURIComponent(target)}`), target.startsWith('http:') ? 'insecure-scheme' : 'blocked-address');
      assert.equal(seen.length, before + 1, 'the allowlisted hop was made');
    }
    await rejectsWith(fetch(`${peer.origin}/to?u=${encodeURIComponent('file:///etc/passwd')}`), 'bad-url');
    assert.equal(canaryConnections, 0);
  });

  test('redirects are followed up to the limit, and no further', async () => {
    const fetch = guarded();
    assert.equal((await fetch(`${peer.origin}/chain?n=2`)).url, `${peer.origin}/ok`);
    await rejectsWith(fetch(`${peer.origin}/chain?n=3`), 'too-many-redirects');
    await rejectsWith(fetch(`${peer.origin}/chain?n=0`, { maxRedirects: 0 }), 'too-many-redirects');
  });

  test('credentials stay with the origin they were meant for, and cookies are never replayed', async () => {
    const fetch = guarded();
    const headers = { authorization: 'Bearer for-peer-only' };
    await fetch(`${peer.origin}/to?u=${encodeURIComponent('/ok')}`, { headers });
    assert.equal(seen.at(-1)?.headers.authorization, 'Bearer for-peer-only');
    assert.equal(seen.at(-1)?.headers.cookie, undefined);
    await fetch(`${peer.origin}/to?u=${encodeURIComponent(`${other.origin}/ok`)}`, { headers });
    assert.equal(seen.at(-1)?.path, '/ok');
    assert.equal(seen.at(-1)?.headers.authorization, undefined);
    assert.equal(seen.at(-1)?.headers.cookie, undefined);
  });

  test('a 303 after POST continues as GET without the body; 307 keeps both', async () => {
    const fetch = guarded();
    const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{"event":1}' };
    await fetch(`${peer.origin}/to?status=303&u=${encodeURIComponent('/ok')}`, post);
    assert.deepEqual([seen.at(-1)?.method, seen.at(-1)?.body, seen.at(-1)?.headers['content-type']], ['GET', '', undefined]);
    await fetch(`${peer.origin}/to?status=307&u=${encodeURIComponent('/ok')}`, post);
    assert.deepEqual([seen.at(-1)?.method, seen.at(-1)?.body], ['POST', '{"event":1}']);
  });

  test('the whole-request deadline covers waiting for headers and for the body', async () => {
    const fetch = guarded();
    await rejectsWith(fetch(`${peer.origin}/hang`, { timeoutMs: 200 }), 'timeout');
    await rejectsWith(fetch(`${peer.origin}/stall-body`, { timeoutMs: 200 }), 'timeout');
  });

  test('responses over the size cap are too-large, streamed or declared', async () => {
    const fetch = guarded();
    await rejectsWith(fetch(`${peer.origin}/big?n=5000`, { maxBytes: 1000 }), 'too-large');
    await rejectsWith(fetch(`${peer.origin}/big-declared?n=5000`, { maxBytes: 1000 }), 'too-large');
    assert.equal((await fetch(`${peer.origin}/big?n=1000`, { maxBytes: 1000 })).body.length, 1000);
  });

  test('a refused connection is unreachable', async () => {
    const closed = await listen('127.0.0.1', () => undefined);
    await close(closed.server);
    await rejectsWith(guarded()(`${closed.origin}/`), 'unreachable');
  });

  test('connects to the address DNS gave once, not to a second lookup', async () => {
    const calls: string[] = [];
    const fetch = createGuardedFetch({ allowlist: ['peer.test'], resolve: fakeDns({ 'peer.test': ['127.0.0.1'] }, calls) });
    const res = await fetch(`http://peer.test:${peer.port}/ok`);
    assert.equal(res.status, 200);
    assert.equal(seen.at(-1)?.headers.host, `peer.test:${peer.port}`);
    assert.deepEqual(calls, ['peer.test']);
  });

  test('the canary never saw a connection', () => assert.equal(canaryConnections, 0));
});

describe('outboundFailure and its HTTP answer', () => {
  const answer = (kind: OutboundErrorKind, source: 'caller' | 'config' = 'caller', message = 'x') =>
    httpErrorOf(outboundFailure(new OutboundError(kind, message), 'SHL manifest', source));
  test("refusals of a caller's URL are 422, upstream failures 502/504", () => {
    const kinds = ['bad-url', 'insecure-scheme', 'blocked-address', 'timeout', 'dns', 'unreachable', 'too-many-redirects', 'too-large', 'status'] as const;
    assert.deepEqual(
      kinds.map((k) => answer(k).status),
      [422, 422, 422, 504, 502, 502, 502, 502, 502],
    );
    const blocked = answer('blocked-address', 'caller', 'internal.test leads to a forbidden address (private)');
    assert.equal(blocked.outcome.issue?.[0]?.code, 'security');
    assert.doesNotMatch(blocked.outcome.issue?.[0]?.diagnostics ?? '', /internal\.test|private/);
  });

  test("a refused configured URL is the upstream's failure (502), its reason kept for the log only", () => {
    const e = outboundFailure(new OutboundError('blocked-address', 'idp.test leads to a forbidden address (private)'), 'The JWKS', 'config');
    assert.equal(e.code, 'ERR_OUTBOUND_FAILED');
    assert.equal(httpErrorOf(e).status, 502);
    assert.match(e.detail ?? '', /blocked-address: idp\.test/);
    assert.doesNotMatch(e.message, /idp\.test/);
  });
});
