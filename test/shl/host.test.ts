import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import type { Db } from '../../src/db/db.js';
import type { CreateShlInput, CreatedShl } from '../../src/shl/host.js';
import { decryptFile, keyBytes } from '../../src/shl/jwe.js';
import { parseShlink } from '../../src/shl/link.js';
import { FHIR_TYPE, SHC_TYPE, retrieveShl } from '../../src/shl/receiver.js';
import { testDatabases } from '../helpers/db.js';
import { SHC_VECTORS, readVector } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';
import { httpAnswer } from '../helpers/http-answer.js';

const BUNDLE = JSON.stringify({ resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition', status: 'final' } }] });
const SHC_FILE = readVector(SHC_VECTORS, 'example-00-e-file.smart-health-card');
const EHR = { clientId: 'ehr-1', organization: 'Clinic A', scopes: ['system/visit.write'] };
const PASSCODE = 'correct-horse-7';
const recipient = 'Patient wallet';
const DAY = 86_400_000;

for (const tdb of testDatabases()) {
  describe(`SHL host over HTTP (${tdb.name})`, () => {
    let db: Db;
    let gw: TestGateway;
    let idp: Idp;
    const clock = new ManualClock(Date.now());
    const issued: CreatedShl[] = [];

    before(async () => {
      db = await tdb.open();
      idp = await startIdp();
      gw = await startTestGateway({ db, listen: true, clock, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
    });
    after(async () => {
      await gw.close();
      await idp.close();
      await tdb.cleanup();
    });

    const create = async (input: Partial<CreateShlInput> = {}) => {
      const link = await gw.services.shl.create({
        files: [{ contentType: FHIR_TYPE, content: BUNDLE }],
        expiresAt: new Date(clock.now() + DAY),
        owner: { organization: EHR.organization, clientId: EHR.clientId, patient: { issuer: idp.issuer, subject: 'patient-1' } },
        label: 'Visit summary',
        ...input,
      });
      issued.push(link);
      return link;
    };
    const manifest = (link: { url: string }, body: Record<string, unknown> = { recipient }) =>
      fetch(link.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const receive = (link: CreatedShl, opts: { passcode?: string; embeddedLengthMax?: number } = {}) =>
      retrieveShl(parseShlink(link.shlink, { allowlist: ['127.0.0.1'] }), { recipient, ...opts }, { fetch: gw.services.fetch, clock });

    test('create: 256-bit id and key, link fields, nothing secret stored', async () => {
      const link = await create({ passcode: PASSCODE });
      assert.match(link.id, /^[A-Za-z0-9_-]{43}$/);
      assert.match(link.key, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(link.id, link.key);
      assert.equal(link.url, `${gw.baseUrl}/shl/${link.id}`);
      const parsed = parseShlink(link.shlink, { allowlist: ['127.0.0.1'] });
      assert.deepEqual(parsed, { url: link.url, key: link.key, flag: 'P', v: 1, label: 'Visit summary', exp: Math.floor(link.expiresAt.getTime() / 1000) });
      const stored = JSON.stringify((await db.query('SELECT * FROM shl_link l JOIN shl_file f ON f.link_id = l.id WHERE l.id = $1', [link.id])).rows);
      assert.ok(!stored.includes(link.key), 'the key is not stored');
      assert.ok(!stored.includes(PASSCODE), 'the passcode is not stored');
      assert.ok(!stored.includes(BUNDLE.slice(0, 20)), 'the content is stored encrypted only');
      assert.match(stored, /scrypt\$16384\$8\$1\$/);
    });

    test('round trip through HTTP: create → manifest → file → decrypt equals the input (location and embedded, both types)', async () => {
      const link = await create({
        files: [
          { contentType: FHIR_TYPE, content: BUNDLE },
          { contentType: SHC_TYPE, content: SHC_FILE },
        ],
      });
      for (const opts of [{}, { embeddedLengthMax: 1_000_000 }]) {
        const r = await receive(link, opts);
        assert.deepEqual(
          r.files.map((f) => [f.contentType, f.content]),
          [
            [FHIR_TYPE, BUNDLE],
            [SHC_TYPE, SHC_FILE],
          ],
        );
      }
      const locked = await create({ passcode: PASSCODE });
      assert.equal((await receive(locked, { passcode: PASSCODE })).files[0]?.content, BUNDLE);
    });

    test('manifest shape; location is application/jose, single-use', async () => {
      const link = await create();
      const res = await manifest(link);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await res.json()) as { files: Record<string, string>[] };
      const [file] = body.files;
      assert.deepEqual(Object.keys(file ?? {}).sort(), ['contentType', 'fhirVersion', 'lastUpdated', 'location', 'status']);
      assert.equal(file?.status, 'finalized');
      assert.equal(file?.lastUpdated, new Date(file?.lastUpdated ?? '').toISOString());
      assert.ok(file?.location?.startsWith(`${link.url}/file/0?token=`));
      assert.ok(!file?.location?.includes(link.key));
      const got = await fetch(file!.location!);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'application/jose');
      assert.equal((await decryptFile(await got.text(), keyBytes(link.key))).content, BUNDLE);
      assert.equal((await fetch(file!.location!)).status, 404, 'a location works once');
    });

    test('a location ticket expires after 15 minutes', async () => {
      const link = await create();
      const { files } = (await (await manifest(link)).json()) as { files: { location: string }[] };
      clock.advance(15 * 60_000 + 1000);
      assert.equal((await fetch(files[0]!.location)).status, 404);
    });

    test('embedded only when the client gave embeddedLengthMax and the JWE fits', async () => {
      const link = await create();
      const kinds = async (body: Record<string, unknown>) =>
        ((await (await manifest(link, body)).json()) as { files: object[] }).files.map((f) => ('embedded' in f ? 'embedded' : 'location'));
      assert.deepEqual(await kinds({ recipient }), ['location']);
      assert.deepEqual(await kinds({ recipient, embeddedLengthMax: 10 }), ['location']);
      assert.deepEqual(await kinds({ recipient, embeddedLengthMax: 100_000 }), ['embedded']);
    });

    test('P: missing passcode 401 without counting; wrong 401 counts down; right 200', async () => {
      const link = await create({ passcode: PASSCODE, maxAttempts: 3 });
      const attempt = async (passcode?: string) => {
        const res = await manifest(link, { recipient, ...(passcode !== undefined ? { passcode } : {}) });
        return [res.status, res.status === 401 ? ((await res.json()) as { remainingAttempts: number }).remainingAttempts : undefined];
      };
      assert.deepEqual(await attempt(), [401, 3]);
      assert.deepEqual(await attempt(), [401, 3]);
      assert.deepEqual(await attempt('nope'), [401, 2]);
      assert.deepEqual(await attempt(PASSCODE), [200, undefined]);
      assert.deepEqual(await attempt('nope'), [401, 1], 'a right passcode does not use up an attempt');
      assert.deepEqual(await attempt('nope'), [401, 0]);
      assert.deepEqual(await attempt(PASSCODE), [404, undefined], 'locked');
    });

    test('P lockout under parallel guesses never evaluates more than the limit', async () => {
      const link = await create({ passcode: PASSCODE, maxAttempts: 3 });
      const guesses = Array.from({ length: 16 }, (_, i) => (i === 10 ? PASSCODE : `wrong-${i}`));
      const statuses = await Promise.all(guesses.map(async (passcode) => (await manifest(link, { recipient, passcode })).status));
      const evaluated = statuses.filter((s) => s === 401 || s === 200).length;
      assert.ok(evaluated <= 3, `evaluated ${evaluated} guesses: ${statuses.join(',')}`);
      assert.ok(statuses.every((s) => s === 401 || s === 200 || s === 404));

      const wrongOnly = await create({ passcode: PASSCODE, maxAttempts: 3 });
      const s2 = await Promise.all(Array.from({ length: 16 }, (_, i) => manifest(wrongOnly, { recipient, passcode: `w${i}` }).then((r) => r.status)));
      assert.equal(s2.filter((s) => s === 401).length, 3);
      assert.equal(s2.filter((s) => s === 404).length, 13);
      const row = (await db.query<{ failed_attempts: number }>('SELECT failed_attempts FROM shl_link WHERE id = $1', [wrongOnly.id])).rows[0];
      assert.equal(row?.failed_attempts, 3);
      assert.equal((await manifest(wrongOnly, { recipient, passcode: PASSCODE })).status, 404);
    });

    test('expiry: manifest and U GET answer 404 once expiresAt passes', async () => {
      const link = await create({ expiresAt: new Date(clock.now() + 60_000) });
      const direct = await create({ expiresAt: new Date(clock.now() + 60_000), singleFile: true });
      assert.equal((await manifest(link)).status, 200);
      clock.advance(61_000);
      assert.equal((await manifest(link)).status, 404);
      assert.equal((await fetch(`${direct.url}?recipient=me`)).status, 404);
    });

    test('U flag: GET ?recipient= serves the JWE; no manifest; recipient required', async () => {
      const link = await create({ singleFile: true, files: [{ contentType: SHC_TYPE, content: SHC_FILE }] });
      assert.equal(parseShlink(link.shlink, { allowlist: ['127.0.0.1'] }).flag, 'U');
      const res = await fetch(`${link.url}?recipient=${encodeURIComponent(recipient)}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/jose');
      assert.equal((await decryptFile(await res.text(), keyBytes(link.key))).content, SHC_FILE);
      assert.equal((await receive(link)).files[0]?.content, SHC_FILE);
      assert.equal((await manifest(link)).status, 404);
      assert.equal((await fetch(link.url)).status, 400);
      const notU = await create();
      assert.equal((await fetch(`${notU.url}?recipient=me`)).status, 404);
    });

    test('revoke: owner client or patient → 204 (idempotent); others and strangers → 404; then inactive', async () => {
      const link = await create();
      assert.equal((await fetch(link.url, { method: 'DELETE' })).status, 401);
      const other = await gw.clientToken({ ...EHR, clientId: 'ehr-2' });
      const del = (token: string, target = link) => fetch(target.url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      assert.equal((await del(other)).status, 404);
      assert.equal((await manifest(link)).status, 200);
      const owner = await gw.clientToken(EHR);
      assert.equal((await del(owner)).status, 204);
      assert.equal((await manifest(link)).status, 404);
      assert.equal((await del(owner)).status, 204);

      const mine = await create();
      const stranger = await idp.token({ sub: 'patient-2', ...patientClaims() }, { now: clock.now() });
      assert.equal((await del(stranger, mine)).status, 404);
      const patient = await idp.token({ sub: 'patient-1', ...patientClaims() }, { now: clock.now() });
      assert.equal((await del(patient, mine)).status, 204);
      assert.equal((await manifest(mine)).status, 404);
    });

    test('every inactive state answers the same 404 as a guessed id', async () => {
      const answer = async (url: string, body: Record<string, unknown> = { recipient }) => {
        const res = await manifest({ url }, body);
        return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
      };
      const guessed = await answer(`${gw.baseUrl}/shl/${randomBytes(32).toString('base64url')}`);
      assert.equal(guessed.status, 404);
      assert.equal(JSON.parse(guessed.body).resourceType, 'OperationOutcome');

      const expired = await create({ expiresAt: new Date(clock.now() + 1000) });
      clock.advance(2000);
      const revoked = await create();
      await gw.services.shl.revoke(revoked.id, { kind: 'client', client: EHR });
      const locked = await create({ passcode: PASSCODE, maxAttempts: 1 });
      await answer(locked.url, { recipient, passcode: 'x' });
      const single = await create({ singleFile: true });
      for (const [name, url, body] of [
        ['expired', expired.url],
        ['revoked', revoked.url],
        ['locked', locked.url, { recipient, passcode: PASSCODE }],
        ['U link manifest', single.url],
        ['malformed id', `${gw.baseUrl}/shl/short`],
      ] as const) {
        assert.deepEqual(await answer(url, body), guessed, name);
      }
    });

    test('bad manifest requests: 400 / 415 as OperationOutcome', async () => {
      const link = await create();
      for (const body of [{}, { recipient: '' }, { recipient, embeddedLengthMax: -1 }, { recipient, passcode: 5 }]) {
        const res = await manifest(link, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
      }
      const res = await fetch(link.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      assert.equal(res.status, 415);
    });

    test('create refuses bad input with 400', async () => {
      for (const bad of [
        { singleFile: true, passcode: 'x' },
        {
          singleFile: true,
          files: [
            { contentType: FHIR_TYPE, content: '{}' },
            { contentType: FHIR_TYPE, content: '{}' },
          ],
        },
        { files: [] },
        { expiresAt: new Date(clock.now() - 1) },
        { label: 'x'.repeat(81) },
        { passcode: '' },
      ]) {
        await assert.rejects(create(bad), (e: unknown) => httpAnswer(e)?.status === 400, JSON.stringify(bad));
      }
    });

    test('CORS: a viewer on another origin may call the manifest and files', async () => {
      const link = await create();
      const pre = await fetch(link.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://viewer.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), '*');
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/i);
      const res = await manifest(link);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const { files } = (await res.json()) as { files: { location: string }[] };
      assert.equal((await fetch(files[0]!.location, { headers: { origin: 'https://viewer.example' } })).headers.get('access-control-allow-origin'), '*');
      assert.equal((await manifest({ url: `${gw.baseUrl}/shl/${'x'.repeat(43)}` })).headers.get('access-control-allow-origin'), '*');
    });

    test('accesses are audited with the recipient; metrics count them', async () => {
      const link = await create({ passcode: PASSCODE });
      await manifest(link, { recipient: 'Dr. Audit', passcode: 'wrong' });
      const { files } = (await (await manifest(link, { recipient: 'Dr. Audit', passcode: PASSCODE })).json()) as { files: { location: string }[] };
      await fetch(files[0]!.location);
      const rows = (
        await db.query<{ subtype: string; outcome: string; organization: string; entity_id: string; detail: Record<string, unknown> }>(
          "SELECT subtype, outcome, organization, entity_id, detail FROM audit_event WHERE entity_id = $1 AND subtype LIKE 'shl.%' ORDER BY id",
          [link.id.slice(0, 8)],
        )
      ).rows;
      assert.deepEqual(
        rows.map((r) => [r.subtype, r.outcome, r.organization, r.detail.recipient]),
        [
          ['shl.manifest', '4', 'Clinic A', 'Dr. Audit'],
          ['shl.manifest', '0', 'Clinic A', 'Dr. Audit'],
          ['shl.file', '0', 'Clinic A', 'Dr. Audit'],
        ],
      );
      const text = await (await fetch(`${gw.baseUrl}/metrics`)).text();
      assert.match(text, /shl_manifest_requests_total\{outcome="ok"\} [1-9]/);
      assert.match(text, /shl_manifest_requests_total\{outcome="passcode"\} [1-9]/);
      assert.match(text, /shl_file_requests_total\{route="location",outcome="ok"\} [1-9]/);
    });

    test('no key, passcode, manifest id or ticket in logs or audit records', async () => {
      const audit = JSON.stringify((await db.query('SELECT * FROM audit_event')).rows);
      const logs = JSON.stringify(gw.logs);
      assert.ok(gw.logs.length > 0);
      for (const link of issued) {
        for (const secret of [link.key, link.id]) {
          assert.ok(!logs.includes(secret), 'logs hold a link secret');
          assert.ok(!audit.includes(secret), 'audit holds a link secret');
        }
      }
      for (const text of [logs, audit]) {
        assert.ok(!text.includes(PASSCODE));
        assert.ok(!/token=/.test(text));
      }
    });
  });
}
