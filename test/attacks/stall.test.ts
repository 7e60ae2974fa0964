import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { startShlWalletHost, type ShlWalletHost } from '../helpers/shl-wallet-host.js';
import { checkinWith, invalidCondition, validCondition, visitDocumentWith } from './stall-payloads.js';

/**
 * The stall catalogue of the security review (issue 15): payloads that each froze the event loop
 * for seconds and answered megabytes. Each must now be refused or accepted within 2 s with a reply
 * under 100 KB, while a /health probe sent every 100 ms never waits more than 250 ms. The probes
 * share this process's event loop with the gateway, and each probe's wait is counted from when it
 * was due, so a blocked loop shows up even when it delays the probe's own timer.
 */

const EHR = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/visit.write'] };
const STALL_BOUND_MS = 2000;
const PROBE_BOUND_MS = 250;
const REPLY_BOUND_BYTES = 100 * 1024;

interface Measured {
  status: number;
  body: OperationOutcome & { resourceType: string };
  bytes: number;
  elapsedMs: number;
  worstProbeMs: number;
  headers: Headers;
}

/** Sends one request while probing /health every 100 ms. */
async function probed(gw: TestGateway, path: string, init: { token: string; body: unknown }): Promise<Measured> {
  const body = JSON.stringify(init.body);
  const waits: Promise<number>[] = [];
  const started = performance.now();
  let due = started;
  const timer = setInterval(() => {
    due += 100;
    const dueAt = due;
    waits.push(
      fetch(`${gw.baseUrl}/health`)
        .then((r) => r.arrayBuffer())
        .then(() => performance.now() - dueAt),
    );
  }, 100);
  try {
    const res = await fetch(`${gw.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${init.token}` },
      body,
    });
    const text = await res.text();
    const elapsedMs = performance.now() - started;
    clearInterval(timer);
    const worstProbeMs = Math.max(0, ...(await Promise.all(waits)));
    return { status: res.status, body: JSON.parse(text) as Measured['body'], bytes: Buffer.byteLength(text), elapsedMs, worstProbeMs, headers: res.headers };
  } finally {
    clearInterval(timer);
  }
}

function assertBounded(m: Measured, what: string): void {
  const seen = `${what}: ${m.status} in ${Math.round(m.elapsedMs)} ms, ${m.bytes} bytes, worst probe ${Math.round(m.worstProbeMs)} ms`;
  assert.ok(m.elapsedMs < STALL_BOUND_MS, seen);
  assert.ok(m.bytes < REPLY_BOUND_BYTES, seen);
  assert.ok(m.worstProbeMs < PROBE_BOUND_MS, seen);
}

for (const tdb of testDatabases()) {
  describe(`stall catalogue (${tdb.name})`, () => {
    let idp: Idp;
    let wallet: ShlWalletHost;
    let gw: TestGateway;
    let ehr: string;

    before(async () => {
      idp = await startIdp();
      wallet = await startShlWalletHost();
      gw = await startTestGateway({ db: await tdb.open(), listen: true, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
      ehr = await gw.clientToken(EHR);
      // A cold worker thread loads its FHIR definitions first; that is start-up, not this catalogue.
      const warm = await probed(gw, '/checkin', { token: ehr, body: { identityToken: await patientToken(), bundle: clipboardBundle() } });
      assert.equal(warm.status, 201, JSON.stringify(warm.body));
    });
    after(async () => {
      await gw.close();
      await wallet.close();
      await idp.close();
      await tdb.cleanup();
    });

    const patientToken = (sub = 'patient-1', claims: Record<string, unknown> = {}) => idp.token({ sub, ...patientClaims(), ...claims });
    const stored = async () => (await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM checkin')).rows[0]!.n;

    test('an SHL of 19 KB inflating to 4.9 MB of invalid Conditions, from an attacker at an open kiosk session; the patient then checks in', async () => {
      const content = JSON.stringify(checkinWith(48_000, invalidCondition, { given: 'Mallory', family: 'Attacker' }));
      assert.ok(content.length > 4.5 * 1024 * 1024, `inflates to ${content.length}`);
      const shlink = await wallet.createLink({ files: [{ contentType: 'application/fhir+json', content, zip: true }] });
      const session = await fetch(`${gw.baseUrl}/checkin/sessions`, { method: 'POST', headers: { authorization: `Bearer ${ehr}` } }).then(
        (r) => r.json() as Promise<{ id: string }>,
      );
      const before = await stored();

      const attack = await probed(gw, `/checkin/sessions/${session.id}/submit`, { token: await patientToken('mallory'), body: { shlink } });
      assertBounded(attack, 'inflating SHL');
      assert.equal(attack.status, 413, JSON.stringify(attack.body));
      assert.equal(await stored(), before);

      const rightful = await probed(gw, `/checkin/sessions/${session.id}/submit`, { token: await patientToken(), body: { bundle: clipboardBundle() } });
      assert.equal(rightful.status, 201, 'the failed submit did not consume the session');
      const again = await probed(gw, `/checkin/sessions/${session.id}/submit`, { token: await patientToken('mallory'), body: { bundle: clipboardBundle() } });
      assert.equal(again.status, 409, JSON.stringify(again.body));
    });

    test('20,000 invalid entries inline in 1 MB are refused before validation', async () => {
      const body = { identityToken: await patientToken(), bundle: checkinWith(20_000) };
      assert.ok(JSON.stringify(body).length <= 1024 * 1024);
      const m = await probed(gw, '/checkin', { token: ehr, body });
      assertBounded(m, '20,000 invalid entries');
      assert.equal(m.status, 413);
      assert.match(m.body.issue[0]!.diagnostics!, /20001 entries; at most 1000/);
    });

    test('a visit document of 17,800 invalid entries is refused before validation', async () => {
      const checkin = await probed(gw, '/checkin', { token: ehr, body: { identityToken: await patientToken(), bundle: clipboardBundle() } });
      assert.equal(checkin.status, 201);
      const patientId = (checkin.body as unknown as { entry: { resource: { resourceType: string; id: string } }[] }).entry.find((e) => e.resource.resourceType === 'Patient')!
        .resource.id;
      const checkinId = (checkin.body as unknown as { id: string }).id;
      const m = await probed(gw, `/checkin/${checkinId}/visit-summary`, { token: ehr, body: visitDocumentWith(17_800, patientId) });
      assertBounded(m, 'visit document of 17,800 entries');
      assert.equal(m.status, 413);
    });

    test('1,680 valid entries (1 MB) are over the default entry cap', async () => {
      const body = { identityToken: await patientToken(), bundle: checkinWith(1680, validCondition) };
      const m = await probed(gw, '/checkin', { token: ehr, body });
      assertBounded(m, '1,680 valid entries');
      assert.equal(m.status, 413);
    });

    test("someone else's payload is refused before it is validated; issues are capped at 100 plus a count", async () => {
      const before = await stored();
      const foreign = await probed(gw, '/checkin', {
        token: ehr,
        body: { identityToken: await patientToken(), bundle: checkinWith(900, invalidCondition, { given: 'Mallory', family: 'Attacker' }) },
      });
      assertBounded(foreign, 'foreign payload');
      assert.equal(foreign.status, 422);
      assert.equal(foreign.body.issue.length, 1, 'the identity mismatch alone: nothing was validated');
      assert.match(foreign.body.issue[0]!.diagnostics!, /does not match the verified identity/);

      const own = await probed(gw, '/checkin', { token: ehr, body: { identityToken: await patientToken(), bundle: checkinWith(100, invalidCondition) } });
      assertBounded(own, 'own invalid payload');
      assert.equal(own.status, 422, JSON.stringify(own.body).slice(0, 300));
      assert.equal(own.body.issue.length, 101);
      assert.match(own.body.issue[100]!.diagnostics!, /^\d+ more issues not listed \(at most 100 are\)$/);
      assert.equal(await stored(), before);
    });
  });
}

describe('bounds under configuration', () => {
  let idp: Idp;
  let hold: { server: Server; url: string; release: () => void };

  before(async () => {
    idp = await startIdp();
    // An SHL host that answers the manifest only when told to: keeps one check-in in flight.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = createServer((req, res) => {
      req.resume();
      void held.then(() => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hold = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, release };
  });
  after(async () => {
    hold.release();
    hold.server.closeAllConnections();
    await new Promise<void>((resolve) => hold.server.close(() => resolve()));
    await idp.close();
  });

  const start = async (env: Record<string, string>) => {
    const [tdb] = testDatabases();
    const gw = await startTestGateway({ db: await tdb!.open(), listen: true, env, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    return { gw, token: await gw.clientToken(EHR), cleanup: () => tdb!.cleanup() };
  };

  test('past the in-flight bound, a check-in is answered 503 with Retry-After at once', async () => {
    const { gw, token, cleanup } = await start({ MAX_INFLIGHT_CHECKINS: '1' });
    try {
      const shlink = `shlink:/${Buffer.from(JSON.stringify({ url: `${hold.url}/m/held`, key: Buffer.alloc(32).toString('base64url') })).toString('base64url')}`;
      const identityToken = await idp.token({ sub: 'patient-1', ...patientClaims() });
      const first = probed(gw, '/checkin', { token, body: { identityToken, shlink } });
      await new Promise((r) => setTimeout(r, 300));
      const second = await probed(gw, '/checkin', { token, body: { identityToken, bundle: clipboardBundle() } });
      assert.equal(second.status, 503, JSON.stringify(second.body));
      assert.equal(second.headers.get('retry-after'), '1');
      assert.equal(second.body.resourceType, 'OperationOutcome');
      hold.release();
      assert.equal((await first).status, 410);
      const third = await probed(gw, '/checkin', { token, body: { identityToken, bundle: clipboardBundle() } });
      assert.equal(third.status, 201, 'admitted again once the first finished');
    } finally {
      await gw.close();
      await cleanup();
    }
  });

  test('validation past its time budget is 422 too complex, not a stall', async () => {
    const { gw, token, cleanup } = await start({ VALIDATION_BUDGET_MS: '1', MAX_ENTRIES: '2000' });
    try {
      const identityToken = await idp.token({ sub: 'patient-1', ...patientClaims() });
      const m = await probed(gw, '/checkin', { token, body: { identityToken, bundle: checkinWith(500, validCondition) } });
      assert.equal(m.status, 422, JSON.stringify(m.body).slice(0, 300));
      assert.equal(m.body.issue[0]!.code, 'too-costly');
      assert.match(m.body.issue[0]!.diagnostics!, /too complex to validate within 1 ms/);
    } finally {
      await gw.close();
      await cleanup();
    }
  });
});
