import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { BlockList, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { buildApp } from '../../src/app.js';
import { checkTarget, createGuardedFetch, type Resolver } from '../../src/net/guarded-fetch.js';
import { OutboundError, type GuardedFetch, type OutboundErrorKind } from '../../src/net/types.js';
import { buildShlink } from '../../src/shl/link.js';
import { testDatabases } from '../helpers/db.js';
import { readVector, SHC_VECTORS, shcExampleIssuer } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { startShlWalletHost, type ShlWalletHost } from '../helpers/shl-wallet-host.js';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.js';
import { restHookSubscription } from './subscription-body.js';

/**
 * SSRF catalogue. End to end, the only things ever reachable are loopback canaries that count
 * connections (they must see none). Every other address is judged as a decision only: the guard
 * is asked with an injected resolver, and the gateway under test reaches the outside through a
 * sentinel that lets the real guard decide and then refuses, and records, any destination that
 * is not loopback, so a guard that wrongly said yes fails the test without a connection.
 */

const KEY = Buffer.alloc(32, 9).toString('base64url');
const KIOSK = { clientId: 'kiosk-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/Subscription.read', 'system/Subscription.write'] };
const cardFile = readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card');
const PUBLIC_IP = '93.184.215.14';

/** Names for tests only: answered here, never sent to a DNS server (localhost comes from /etc/hosts). */
const DNS: Record<string, string[]> = {
  'loopback.attack.test': ['127.0.0.2'],
  'loopback6.attack.test': ['::1'],
  'rebind.attack.test': [PUBLIC_IP, '127.0.0.2'],
  'metadata.attack.test': ['169.254.169.254'],
  'private.attack.test': ['10.0.0.7'],
  'mapped.attack.test': ['::ffff:169.254.169.254'],
  'ula.attack.test': ['fd00:ec2::254'],
  'public.attack.test': [PUBLIC_IP],
};
const testDns: Resolver = async (host) => {
  if (host === 'localhost') return lookup(host, { all: true, verbatim: true });
  const answers = DNS[host];
  if (!answers) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The real guarded fetch, behind a trap for any destination off this host. */
function sentinelFetch(allowlist: string[], violations: string[]): GuardedFetch {
  const inner = createGuardedFetch({ allowlist, resolve: testDns, defaults: { timeoutMs: 5_000 } });
  return async (url, req) => {
    const target = await checkTarget(url, allowlist, testDns);
    if (!LOOPBACK.check(target.address, target.family === 6 ? 'ipv6' : 'ipv4')) {
      violations.push(target.url.host);
      throw new OutboundError('unreachable', 'the test sentinel refused a connection off this host');
    }
    return inner(url, req);
  };
}

async function rejection(p: Promise<unknown>): Promise<OutboundError> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof OutboundError, String(e));
  return e;
}

describe('SSRF decisions for addresses off this host (no connection)', () => {
  const refused: [url: string, kind: OutboundErrorKind][] = [
    ['https://169.254.169.254/latest/meta-data/', 'blocked-address'],
    ['https://2852039166/latest/meta-data/', 'blocked-address'], // decimal 169.254.169.254
    ['https://0xa9fea9fe/', 'blocked-address'],
    ['https://0251.0376.0251.0376/', 'blocked-address'], // octal
    ['https://169.254.43518/', 'blocked-address'], // short form
    ['https://[::ffff:169.254.169.254]/', 'blocked-address'],
    ['https://[::ffff:a9fe:a9fe]/', 'blocked-address'],
    ['https://[64:ff9b::169.254.169.254]/', 'blocked-address'], // NAT64
    ['https://[2002:a9fe:a9fe::1]/', 'blocked-address'], // 6to4
    ['https://[fd00:ec2::254]/', 'blocked-address'], // AWS IPv6 metadata
    ['https://10.0.0.1/', 'blocked-address'],
    ['https://172.16.5.4/', 'blocked-address'],
    ['https://172.31.255.255/', 'blocked-address'],
    ['https://192.168.0.1/', 'blocked-address'],
    ['https://0xc0a80001/', 'blocked-address'],
    ['https://100.64.0.1/', 'blocked-address'],
    ['https://[fc00::1]/', 'blocked-address'],
    ['https://[fe80::1]/', 'blocked-address'],
    ['https://224.0.0.1/', 'blocked-address'],
    ['https://255.255.255.255/', 'blocked-address'],
    ['https://240.0.0.1/', 'blocked-address'],
    ['https://0.0.0.0/', 'blocked-address'],
    ['https://[::]/', 'blocked-address'],
    ['https://metadata.attack.test/', 'blocked-address'],
    ['https://private.attack.test/', 'blocked-address'],
    ['https://mapped.attack.test/', 'blocked-address'],
    ['https://ula.attack.test/', 'blocked-address'],
    ['https://rebind.attack.test/', 'blocked-address'],
    ['http://public.attack.test/', 'insecure-scheme'],
    ['https://user:pw@public.attack.test/', 'bad-url'],
    ['gopher://public.attack.test/', 'bad-url'],
    ['file:///etc/passwd', 'bad-url'],
    ['https://[fe80::1%25eth0]/', 'bad-url'],
  ];
  for (const [url, kind] of refused) {
    test(`${url} → ${kind}`, async () => assert.equal((await rejection(checkTarget(url, ['127.0.0.1'], testDns))).kind, kind));
  }

  test('the sentinel used below refuses, and records, a destination the guard was told to allow', async () => {
    const violations: string[] = [];
    const e = await rejection(sentinelFetch(['10.0.0.1'], violations)('https://10.0.0.1/'));
    assert.equal(e.kind, 'unreachable');
    assert.deepEqual(violations, ['10.0.0.1']);
  });

  test('control: a public name is accepted and pinned to the address that was checked', async () => {
    const t = await checkTarget('https://public.attack.test/manifest', [], testDns);
    assert.equal(t.address, PUBLIC_IP);
  });
});

type Row = [name: string, url: string];

for (const tdb of testDatabases()) {
  describe(`SSRF end to end against loopback canaries (${tdb.name})`, () => {
    let idp: Idp;
    let wallet: ShlWalletHost;
    let subscriber: Subscriber;
    let gw: TestGateway;
    let app: Express;
    let kiosk: string;
    let redirector: Server;
    let R = '';
    const canaries: { server: Server; port: number; connections: number }[] = [];
    const violations: string[] = [];
    /** Where the redirector and the hostile manifest send the gateway, by short name. */
    const targets = new Map<string, string>();
    let C1 = 0; // canary on 127.0.0.1 (a port that is not allow-listed)
    let C2 = 0; // canary on 127.0.0.2
    let C6 = 0; // canary on [::1]

    const canary = async (host: string) => {
      const c = { server: createServer((_req, res) => res.end('canary')), port: 0, connections: 0 };
      c.server.on('connection', () => c.connections++);
      await new Promise<void>((resolve, reject) => c.server.once('error', reject).listen(0, host, resolve));
      c.port = (c.server.address() as AddressInfo).port;
      canaries.push(c);
      return c.port;
    };
    const connections = () => canaries.reduce((n, c) => n + c.connections, 0);

    before(async () => {
      idp = await startIdp();
      wallet = await startShlWalletHost();
      subscriber = await startSubscriber();
      C1 = await canary('127.0.0.1');
      C2 = await canary('127.0.0.2');
      C6 = await canary('::1');
      // An allow-listed host that redirects (307 keeps the manifest POST) or serves a hostile manifest.
      redirector = createServer((req, res) => {
        req.resume();
        const [, kind, a = '', b = ''] = (req.url ?? '').split('/');
        if (kind === 'to' && targets.has(a)) return void res.writeHead(307, { location: targets.get(a) }).end();
        if (kind === 'chain') {
          const n = Number(a);
          return void res.writeHead(307, { location: n > 0 ? `/chain/${n - 1}/${b}` : (targets.get(b) ?? '/') }).end();
        }
        if (kind === 'manifest' && targets.has(a)) {
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ files: [{ contentType: 'application/smart-health-card', location: targets.get(a) }] }));
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
      R = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;

      const port = (u: string) => new URL(u).port;
      // Peers are allow-listed by port, so other loopback ports (the canaries) stay forbidden.
      const allowlist = [idp.issuer, wallet.baseUrl, R, subscriber.url].map((u) => `127.0.0.1:${port(u)}`);
      gw = await startTestGateway({
        db: await tdb.open(),
        trust: {
          identityProviders: [idp.providerConfig()],
          shcIssuers: [shcExampleIssuer()],
          outboundAllowlist: allowlist,
        },
      });
      app = buildApp({ ...gw.services, fetch: sentinelFetch(allowlist, violations) });
      kiosk = await gw.clientToken(KIOSK);
    });
    after(async () => {
      await gw.close();
      await wallet.close();
      await subscriber.close();
      await idp.close();
      for (const s of [redirector, ...canaries.map((c) => c.server)]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await tdb.cleanup();
    });

    const stored = async () =>
      (await gw.services.db.query<{ n: number }>('SELECT (SELECT count(*) FROM checkin) + (SELECT count(*) FROM fhir_resource) + (SELECT count(*) FROM subscription) AS n'))
        .rows[0]!.n;
    const checkin = async (shlink: string) =>
      request(app)
        .post('/checkin')
        .auth(kiosk, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }), shlink });
    const assertRefused = (r: request.Response, what: string, resolved: string[] = []) => {
      assert.equal(r.status, 422, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.ok(['security', 'processing'].includes(r.body.issue[0].code), `${what}: ${r.text}`);
      const diagnostics = String(r.body.issue[0].diagnostics);
      assert.doesNotMatch(diagnostics, /loopback|private|link-local|metadata|unique local|forbidden address/i, 'no address class is revealed');
      for (const ip of resolved) assert.ok(!diagnostics.includes(ip), `${what}: the resolved address is not revealed`);
    };
    const afterEach = (what: string) => {
      assert.equal(connections(), 0, `${what}: a canary was reached`);
      assert.deepEqual(violations, [], `${what}: the guard let a connection off this host through`);
    };

    /** Loopback canaries spelled every way the WHATWG parser, DNS or IPv6 allow. */
    const loopbackTargets = (): Row[] => [
      ['plain http to 127.0.0.1 on a port not allow-listed', `http://127.0.0.1:${C1}/m`],
      ['https to 127.0.0.1 on a port not allow-listed', `https://127.0.0.1:${C1}/m`],
      ['127.0.0.2', `https://127.0.0.2:${C2}/m`],
      ['IPv6 loopback', `https://[::1]:${C6}/m`],
      ['localhost', `https://localhost:${C1}/m`],
      ['a name resolving to 127.0.0.2', `https://loopback.attack.test:${C2}/m`],
      ['a name resolving to ::1', `https://loopback6.attack.test:${C6}/m`],
      ['a name resolving to a public and a loopback address', `https://rebind.attack.test:${C2}/m`],
      ['0.0.0.0', `https://0.0.0.0:${C1}/m`],
      ['0', `https://0:${C1}/m`],
      ['decimal 127.0.0.1', `https://2130706433:${C1}/m`],
      ['decimal 127.0.0.2', `https://2130706434:${C2}/m`],
      ['octal 127.0.0.1', `https://0177.0.0.1:${C1}/m`],
      ['hex 127.0.0.2', `https://0x7f.0.0.2:${C2}/m`],
      ['hex dword 127.0.0.2', `https://0x7f000002:${C2}/m`],
      ['short form 127.2', `https://127.2:${C2}/m`],
      ['trailing dot', `https://127.0.0.2.:${C2}/m`],
      ['IPv4-mapped IPv6, dotted', `https://[::ffff:127.0.0.2]:${C2}/m`],
      ['IPv4-mapped IPv6, hex', `https://[::ffff:7f00:1]:${C1}/m`],
      ['IPv4-mapped IPv6, long form', `https://[0:0:0:0:0:ffff:7f00:2]:${C2}/m`],
      ['IPv4-compatible IPv6', `https://[::127.0.0.2]:${C2}/m`],
      ['fragment trick', `https://127.0.0.2:${C2}/m#@127.0.0.1:${new URL(wallet.baseUrl).port}`],
      ['backslash trick', `https://127.0.0.2:${C2}\\@127.0.0.1:${new URL(wallet.baseUrl).port}/m`],
      ['userinfo naming an allow-listed peer', `https://127.0.0.1:${new URL(wallet.baseUrl).port}@127.0.0.2:${C2}/m`],
    ];
    /** Off this host: the sentinel keeps these decisions only. */
    const remoteTargets: Row[] = [
      ['cloud metadata', 'https://169.254.169.254/m'],
      ['cloud metadata, hex', 'https://0xa9fea9fe/m'],
      ['cloud metadata, decimal', 'https://2852039166/m'],
      ['cloud metadata, IPv4-mapped', 'https://[::ffff:169.254.169.254]/m'],
      ['AWS IPv6 metadata', 'https://[fd00:ec2::254]/m'],
      ['RFC 1918 10/8', 'https://10.0.0.1/m'],
      ['RFC 1918 172.16/12', 'https://172.16.5.4/m'],
      ['RFC 1918 192.168/16', 'https://192.168.0.1/m'],
      ['CGNAT', 'https://100.64.0.1/m'],
      ['IPv6 link-local', 'https://[fe80::1]/m'],
      ['NAT64 of metadata', 'https://[64:ff9b::a9fe:a9fe]/m'],
      ['a name resolving to metadata', 'https://metadata.attack.test/m'],
      ['a name resolving to RFC 1918', 'https://private.attack.test/m'],
      ['a name resolving to mapped metadata', 'https://mapped.attack.test/m'],
    ];

    test('check-in: an shlink pointing at loopback in any spelling is refused (422) and no canary is reached', async () => {
      const before = await stored();
      for (const [name, url] of loopbackTargets()) {
        const r = await checkin(buildShlink({ url, key: KEY }));
        assertRefused(r, name, name.startsWith('a name') ? ['127.0.0.2', '::1'] : []);
        afterEach(name);
      }
      assert.equal(await stored(), before, 'nothing stored');
    });

    test('check-in: an shlink pointing off this host (metadata, RFC 1918, link-local, by name) is refused (422) as a decision only', async () => {
      for (const [name, url] of remoteTargets) {
        const r = await checkin(buildShlink({ url, key: KEY }));
        assertRefused(r, name, name.startsWith('a name') ? (DNS[new URL(url).hostname] ?? []) : []);
        afterEach(name);
      }
    });

    test('check-in: an allow-listed host redirecting to a canary is refused at the redirect', async () => {
      for (const [name, url] of loopbackTargets()) {
        const key = `r${targets.size}`;
        targets.set(key, url.replace(/^https:/, 'http:'));
        const r = await checkin(buildShlink({ url: `${R}/to/${key}`, key: KEY }));
        assertRefused(r, `redirect to ${name}`);
        afterEach(`redirect to ${name}`);
      }
    });

    test('check-in: a hostile manifest whose file location is a canary, directly or by redirect, is refused', async () => {
      targets.set('canary-file', `http://127.0.0.2:${C2}/file`);
      targets.set('via-redirect', `${R}/to/canary-file`);
      targets.set('metadata-file', 'https://169.254.169.254/file');
      for (const name of ['canary-file', 'via-redirect', 'metadata-file']) {
        const r = await checkin(buildShlink({ url: `${R}/manifest/${name}`, key: KEY }));
        assertRefused(r, `manifest listing ${name}`);
        afterEach(name);
      }
    });

    test('check-in: redirect chains stop after 3 hops (502), and 3 hops still work', async () => {
      const shlink = await wallet.createLink({ flags: 'L', files: [{ contentType: 'application/smart-health-card', content: cardFile }] });
      const payload = JSON.parse(Buffer.from(shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { url: string; key: string };
      targets.set('wallet', payload.url);
      const seen = wallet.requests.length;
      const long = await checkin(buildShlink({ url: `${R}/chain/3/wallet`, key: payload.key }));
      assert.equal(long.status, 502, long.text);
      assert.equal(long.body.resourceType, 'OperationOutcome');
      assert.equal(wallet.requests.length, seen, 'the end of a 4-hop chain is never reached');
      const ok = await checkin(buildShlink({ url: `${R}/chain/2/wallet`, key: payload.key }));
      assert.equal(ok.status, 201, ok.text.slice(0, 300));
      afterEach('chains');
    });

    test('the guarded fetch itself refuses every loopback spelling and redirect to a canary', async () => {
      const allowlist = [`127.0.0.1:${new URL(R).port}`];
      const fetch = createGuardedFetch({ allowlist, resolve: testDns, defaults: { timeoutMs: 5_000 } });
      for (const [name, url] of loopbackTargets()) {
        const e = await rejection(fetch(url, { method: 'POST', body: '{}' }));
        assert.ok(e.refused, `${name}: ${e.kind}`);
        const key = `g${targets.size}`;
        targets.set(key, url);
        const viaRedirect = await rejection(fetch(`${R}/to/${key}`, { method: 'POST', body: '{}' }));
        assert.ok(viaRedirect.refused, `redirect to ${name}: ${viaRedirect.kind}`);
      }
      targets.set('far', `http://127.0.0.2:${C2}/`);
      assert.equal((await rejection(fetch(`${R}/chain/3/far`))).kind, 'too-many-redirects', 'the fourth hop is never judged, let alone made');
      afterEach('guarded fetch');
    });

    const subscribe = async (endpoint: string) => request(app).post('/fhir/Subscription').auth(kiosk, { type: 'bearer' }).send(restHookSubscription(endpoint));

    test('subscriptions: an endpoint on loopback or off this host is refused (422) before anything is stored or sent', async () => {
      const before = await stored();
      const endpoints: Row[] = [
        ...loopbackTargets().filter(([name]) => !name.includes('name resolving')),
        // The route judges with the system resolver: only IP literals and localhost here, never a DNS query.
        ...remoteTargets.filter(([name]) => !name.includes('name resolving')),
      ];
      for (const [name, url] of endpoints) {
        const r = await subscribe(url.replace(/\/m(?=$|#|\\)/, '/hook'));
        assertRefused(r, `endpoint ${name}`);
        assert.deepEqual(r.body.issue[0].expression, ['Subscription.channel.endpoint']);
        afterEach(`endpoint ${name}`);
      }
      assert.equal(await stored(), before, 'no subscription stored');
    });

    test('subscriptions: an allow-listed endpoint that redirects to a canary is created but never followed', async () => {
      const key = 'sub-canary';
      targets.set(key, `http://127.0.0.2:${C2}/hook`);
      const r = await subscribe(`${R}/to/${key}`);
      assert.equal(r.status, 201, r.text);
      assert.notEqual(r.body.status, 'active', 'the handshake did not succeed');
      afterEach('redirecting endpoint');
      const control = await subscribe(subscriber.url);
      assert.equal(control.status, 201, control.text);
      assert.equal(control.body.status, 'active', 'control: an allow-listed endpoint is reached');
    });

    test('subscriptions: a delivery the guard refuses later is reported without the reason (no probe of internal DNS)', async () => {
      // A name that passed at creation and resolves somewhere forbidden by delivery time (DNS
      // rebinding), played here by a gateway whose configuration allows the canary while the
      // fetch it delivers through does not.
      const canaryHook = `https://127.0.0.2:${C2}/hook`;
      const rebound = await startTestGateway({
        db: gw.services.db,
        trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: [...gw.services.config.trust.outboundAllowlist, `127.0.0.2:${C2}`] },
      });
      const reboundApp = buildApp({ ...rebound.services, fetch: sentinelFetch(gw.services.config.trust.outboundAllowlist, violations) });
      const r = await request(reboundApp)
        .post('/fhir/Subscription')
        .auth(await rebound.clientToken(KIOSK), { type: 'bearer' })
        .send(restHookSubscription(canaryHook));
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.status, 'error');
      const status = await request(reboundApp)
        .get(`/fhir/Subscription/${r.body.id}/$status`)
        .auth(await rebound.clientToken(KIOSK), { type: 'bearer' });
      for (const shown of [JSON.stringify(r.body), JSON.stringify(status.body)]) {
        assert.match(shown, /not an allowed destination/);
        assert.doesNotMatch(shown, /loopback|private|link-local|metadata|forbidden address|leads to/i, "the guard's reason stays inside");
      }
      await rebound.close();
      afterEach('rebound endpoint');
    });

    test('no canary ever saw a connection, and nothing left this host', () => afterEach('the whole catalogue'));
  });
}
