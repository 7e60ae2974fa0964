import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { ManualClock } from '../../src/clock.js';
import type { CreateShlInput, CreatedShl } from '../../src/shl/host.js';
import { FHIR_TYPE } from '../../src/shl/receiver.js';
import { parseShlink } from '../../src/shl/link.js';
import { testDatabases } from '../helpers/db.js';
import { clipboardBundle, visitSummaryBundle } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { patientClaims, startIdp, type Idp } from '../helpers/idp.js';

/**
 * Guessing the links the gateway hosts: passcodes (brute force, in parallel), manifest ids,
 * location tickets. Whatever is guessed, an inactive link must look exactly like one that never
 * existed: same status, same bytes, same headers (bar the request id and date).
 */

const EHR = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/checkin.write', 'system/checkin.read', 'system/visit.write', 'system/visit.read'] };
const PASSCODE = 'blue-harbour-41';
const RECIPIENT = 'Guessing test';
const HOUR = 3_600_000;
const random43 = () => randomBytes(32).toString('base64url');

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Everything the caller sees, except what differs per request by design. */
async function answerOf(res: Response): Promise<Answer> {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date'));
  return { status: res.status, headers, body: await res.text() };
}

for (const tdb of testDatabases()) {
  describe(`SHL guessing (${tdb.name})`, () => {
    let gw: TestGateway;
    let idp: Idp;
    let ehr: string;
    let unknownPost: Answer;
    const clock = new ManualClock(Date.now());

    before(async () => {
      idp = await startIdp();
      gw = await startTestGateway({ db: await tdb.open(), listen: true, clock, trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] } });
      ehr = await gw.clientToken(EHR);
      unknownPost = await manifest(`/shl/${random43()}`, { recipient: RECIPIENT, passcode: PASSCODE });
      assert.equal(unknownPost.status, 404);
      assert.equal(JSON.parse(unknownPost.body).resourceType, 'OperationOutcome');
    });
    after(async () => {
      await gw.close();
      await idp.close();
      await tdb.cleanup();
    });

    const url = (path: string) => `${gw.baseUrl}${path}`;
    async function manifest(path: string, body: Record<string, unknown> = { recipient: RECIPIENT }): Promise<Answer> {
      return answerOf(await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    }
    const get = async (path: string) => answerOf(await fetch(url(path)));
    const create = (input: Partial<CreateShlInput> = {}) =>
      gw.services.shl.create({
        files: [{ contentType: FHIR_TYPE, content: JSON.stringify(clipboardBundle()) }],
        expiresAt: new Date(clock.now() + 24 * HOUR),
        owner: { organization: EHR.organization, clientId: EHR.clientId, patient: { issuer: idp.issuer, subject: 'john' } },
        ...input,
      });
    const pathOf = (link: CreatedShl) => new URL(link.url).pathname;
    const assertUnknown = (got: Answer, what: string) => assert.deepEqual(got, unknownPost, `${what} must look like an unknown link`);

    test('a visit-summary passcode link: 40 parallel wrong guesses get exactly its allowance of 401s, then even the right passcode is refused', async () => {
      const checkin = await request(gw.app)
        .post('/checkin')
        .auth(ehr, { type: 'bearer' })
        .send({ identityToken: await idp.token({ sub: 'john', ...patientClaims() }, { now: clock.now() }), bundle: clipboardBundle() });
      assert.equal(checkin.status, 201, JSON.stringify(checkin.body));
      const patientId = (checkin.body as Bundle).entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource!.id!;
      const visit = await request(gw.app)
        .post(`/checkin/${checkin.body.id}/visit-summary`)
        .auth(ehr, { type: 'bearer' })
        .send({
          resourceType: 'Parameters',
          parameter: [
            { name: 'bundle', resource: visitSummaryBundle(patientId) },
            { name: 'passcode', valueString: PASSCODE },
          ],
        });
      assert.equal(visit.status, 201, JSON.stringify(visit.body));
      const path = new URL(parseShlink(visit.body.shlink, { allowlist: ['127.0.0.1'] }).url).pathname;

      const first = await manifest(path, { recipient: RECIPIENT });
      assert.equal(first.status, 401, 'no passcode: asked for one, nothing counted');
      const allowance = JSON.parse(first.body).remainingAttempts as number;
      assert.ok(allowance >= 3 && allowance <= 10, `allowance ${allowance}`);

      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => manifest(path, { recipient: RECIPIENT, passcode: `guess-${i}` })));
      const refused = answers.filter((a) => a.status === 401);
      assert.equal(refused.length, allowance, answers.map((a) => a.status).join(','));
      assert.deepEqual(
        refused.map((a) => JSON.parse(a.body).remainingAttempts as number).sort((a, b) => a - b),
        Array.from({ length: allowance }, (_, i) => i),
        'each attempt counted once',
      );
      for (const a of answers.filter((x) => x.status !== 401)) assertUnknown(a, 'a guess past the allowance');

      assertUnknown(await manifest(path, { recipient: RECIPIENT, passcode: PASSCODE }), 'the right passcode after lockout');
      clock.advance(25 * HOUR);
      assertUnknown(await manifest(path, { recipient: RECIPIENT, passcode: PASSCODE }), 'the right passcode a day later');
      assertUnknown(await manifest(path, { recipient: RECIPIENT }), 'no passcode after lockout');
      clock.advance(-25 * HOUR);
      const logged = JSON.stringify(gw.logs) + JSON.stringify((await gw.services.db.query('SELECT detail FROM audit_event')).rows);
      assert.ok(!logged.includes('guess-') && !logged.includes(PASSCODE), 'guesses and the passcode never reach logs or audit');
    });

    test("parallel guesses mixed with the right one: exactly the allowance of wrong guesses is evaluated over the link's life", async () => {
      const allowance = 4;
      const link = await create({ passcode: PASSCODE, maxAttempts: allowance });
      const guesses = Array.from({ length: 24 }, (_, i) => (i % 6 === 3 ? PASSCODE : `wrong-${i}`));
      const answers = await Promise.all(guesses.map((passcode) => manifest(pathOf(link), { recipient: RECIPIENT, passcode })));
      for (const [i, a] of answers.entries()) {
        if (a.status === 404) assertUnknown(a, `guess ${i}`);
        else assert.ok((a.status === 401 && guesses[i] !== PASSCODE) || (a.status === 200 && guesses[i] === PASSCODE), `guess ${i}: ${a.status}`);
      }
      // A right guess holds an attempt while it is checked (and gives it back), so a burst may
      // evaluate fewer wrong guesses than the allowance, never more, and each takes its own attempt.
      const remaining = answers.filter((a) => a.status === 401).map((a) => JSON.parse(a.body).remainingAttempts as number);
      const wrong = remaining.length;
      assert.ok(wrong >= 1 && wrong <= allowance, `${wrong} wrong guesses evaluated`);
      assert.equal(new Set(remaining).size, wrong, 'each wrong guess took its own attempt');
      assert.ok(
        remaining.every((n) => n >= 0 && n < allowance),
        remaining.join(','),
      );
      const row = await gw.services.db.query<{ failed_attempts: number }>('SELECT failed_attempts FROM shl_link WHERE id = $1', [link.id]);
      assert.equal(row.rows[0]!.failed_attempts, wrong);
      // What the burst left of the allowance is evaluated one by one, and then nothing more.
      for (let i = wrong; i < allowance; i++) assert.equal((await manifest(pathOf(link), { recipient: RECIPIENT, passcode: `late-${i}` })).status, 401);
      assertUnknown(await manifest(pathOf(link), { recipient: RECIPIENT, passcode: 'one-too-many' }), 'a guess past the allowance');
      assertUnknown(await manifest(pathOf(link), { recipient: RECIPIENT, passcode: PASSCODE }), 'the right passcode after lockout');
    });

    test('locked, expired, revoked, U-only and unknown links answer byte-identical 404s on every SHL route', async () => {
      const locked = await create({ passcode: PASSCODE, maxAttempts: 1 });
      assert.equal((await manifest(pathOf(locked), { recipient: RECIPIENT, passcode: 'nope' })).status, 401);
      const expired = await create({ expiresAt: new Date(clock.now() + 1000) });
      const expiredU = await create({ expiresAt: new Date(clock.now() + 1000), singleFile: true });
      clock.advance(2000);
      const revoked = await create();
      const revokedU = await create({ singleFile: true });
      for (const l of [revoked, revokedU]) assert.equal((await request(gw.app).delete(pathOf(l)).auth(ehr, { type: 'bearer' })).status, 204);
      const single = await create({ singleFile: true });
      const plain = await create();
      const unknown = `/shl/${random43()}`;

      const manifests: [string, string, Record<string, unknown>?][] = [
        ['unknown', unknown],
        ['locked, right passcode', pathOf(locked), { recipient: RECIPIENT, passcode: PASSCODE }],
        ['locked, no passcode', pathOf(locked)],
        ['expired', pathOf(expired)],
        ['revoked', pathOf(revoked)],
        ['U link asked for a manifest', pathOf(single)],
      ];
      for (const [name, path, body] of manifests) assertUnknown(await manifest(path, body), `POST manifest: ${name}`);

      const directs: [string, string][] = [
        ['unknown', unknown],
        ['expired U', pathOf(expiredU)],
        ['revoked U', pathOf(revokedU)],
        ['a link without U', pathOf(plain)],
        ['locked', pathOf(locked)],
      ];
      for (const [name, path] of directs) assertUnknown(await get(`${path}?recipient=x`), `GET direct file: ${name}`);
      // Without ?recipient= the request is refused before any lookup, so that answer cannot tell links apart either.
      const noRecipient = await get(unknown);
      assert.equal(noRecipient.status, 400);
      assert.deepEqual(await get(pathOf(single)), noRecipient);

      for (const path of [unknown, pathOf(plain), pathOf(expired), pathOf(revoked), pathOf(locked)]) {
        assertUnknown(await get(`${path}/file/0?token=${random43()}`), `GET location with a guessed ticket: ${path === unknown ? 'unknown' : 'existing'} link`);
      }
    });

    test('manifest-id guessing: random, short, long, odd and path-trick ids all get the same 404', async () => {
      const real = await create();
      const id = real.id;
      const flip = (c: string) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase());
      const guesses = [
        ...Array.from({ length: 25 }, () => random43()),
        'a',
        id.slice(0, 42),
        `${id}A`,
        `${id.slice(0, 42)}${id[42] === 'A' ? 'B' : 'A'}`,
        [...id].map(flip).join(''),
        `${id.slice(0, 40)}%3D%3D`,
        `${id}%00`,
        `${id}%20`,
        `%20${id.slice(1)}`,
        `${id.slice(0, 42)}%2F`,
        '..%2F..%2Fhealth',
        `${id.slice(0, 21)}%2F${id.slice(22)}`,
        `${id.slice(0, 42)}+`,
        encodeURIComponent("' OR '1'='1' -- abcdefghijklmnopqrstuvwxy"),
        encodeURIComponent('*'.repeat(43)),
        `${id.slice(0, 42)}%E2%80%8B`,
        'A'.repeat(10_000),
      ];
      for (const guess of guesses) {
        const shown = guess.length > 50 ? `${guess.slice(0, 20)}… (${guess.length})` : guess;
        assertUnknown(await manifest(`/shl/${guess}`), `POST /shl/${shown}`);
        assertUnknown(await get(`/shl/${guess}?recipient=x`), `GET /shl/${shown}`);
        assertUnknown(await get(`/shl/${guess}/file/0?token=${random43()}`), `GET /shl/${shown}/file/0`);
      }
      assert.equal((await manifest(`/shl/${id}`)).status, 200, 'control: the real id works');
    });

    test('paths that escape the SHL routes answer the same whether the link exists or not', async () => {
      const real = await create();
      const fake = random43();
      const tricks = [(i: string) => `/shl/${i}/extra`, (i: string) => `/shl//${i}`, (i: string) => `/shl/${i}/file`, (i: string) => `/shl/${i}/file/0/x`];
      for (const trick of tricks) {
        const forReal = await manifest(trick(real.id));
        const forFake = await manifest(trick(fake));
        assert.notEqual(forReal.status, 200, trick(real.id));
        assert.deepEqual(
          { ...forReal, body: forReal.body.replaceAll(real.id, 'ID'), headers: {} },
          { ...forFake, body: forFake.body.replaceAll(fake, 'ID'), headers: {} },
          trick('ID'),
        );
      }
    });

    test('location tickets: single use, bound to their link and file, expiring, and not guessable', async () => {
      const link = await create({ files: [0, 1].map(() => ({ contentType: FHIR_TYPE, content: JSON.stringify(clipboardBundle()) })) });
      const other = await create();
      const locations = async (l: CreatedShl) => {
        const m = await manifest(pathOf(l));
        assert.equal(m.status, 200);
        return (JSON.parse(m.body) as { files: { location: string }[] }).files.map((f) => new URL(f.location));
      };
      const [file0, file1] = (await locations(link)) as [URL, URL];
      const token0 = file0.searchParams.get('token')!;
      const misuse = [
        `${pathOf(other)}/file/0?token=${token0}`,
        `${pathOf(link)}/file/1?token=${token0}`,
        `${pathOf(link)}/file/0?token=${token0.slice(0, 42)}`,
        `${pathOf(link)}/file/0?token=${token0.toLowerCase() === token0 ? token0.toUpperCase() : token0.toLowerCase()}`,
        `${pathOf(link)}/file/0?token=${token0}&token=${token0}`,
        `${pathOf(link)}/file/0`,
        `${pathOf(link)}/file/-0?token=${token0}`,
      ];
      for (const path of misuse) assertUnknown(await get(path), path.replace(token0, 'TICKET'));
      assert.equal((await get(`${file0.pathname}${file0.search}`)).status, 200, 'misuse elsewhere did not spend the ticket');
      assertUnknown(await get(`${file0.pathname}${file0.search}`), 'a used ticket');
      assert.equal((await get(`${file1.pathname}${file1.search}`)).status, 200);

      const [late] = (await locations(other)) as [URL];
      clock.advance(16 * 60_000);
      assertUnknown(await get(`${late.pathname}${late.search}`), 'a ticket past its 15 minutes');
      const [revokedTicket] = (await locations(other)) as [URL];
      assert.equal(
        (
          await request(gw.app)
            .delete(pathOf(other))
            .auth(await gw.clientToken(EHR), { type: 'bearer' })
        ).status,
        204,
      );
      assertUnknown(await get(`${revokedTicket.pathname}${revokedTicket.search}`), 'a ticket of a revoked link');

      const stored = await gw.services.db.query<{ token_hash: string }>('SELECT token_hash FROM shl_ticket');
      assert.ok(
        stored.rows.every((r) => r.token_hash !== token0),
        'tickets are stored hashed',
      );
    });

    test('revocation cannot be guessed either: another client, another patient and an unknown id all get one 404', async () => {
      const link = await create();
      const otherOrg = await gw.clientToken({ ...EHR, clientId: 'ehr-b', organization: 'Clinic B', scopes: ['system/*.*'] });
      const sameOrgOtherClient = await gw.clientToken({ ...EHR, clientId: 'ehr-a2' });
      const stranger = await idp.token({ sub: 'someone-else', ...patientClaims() }, { now: clock.now() });
      const del = async (path: string, token: string) => answerOf(await fetch(url(path), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }));
      const baseline = await del(`/shl/${random43()}`, otherOrg);
      assert.equal(baseline.status, 404);
      for (const [who, token] of [
        ['another organization (all scopes)', otherOrg],
        ['another client of the organization', sameOrgOtherClient],
        ['another patient', stranger],
      ] as const) {
        assert.deepEqual(await del(pathOf(link), token), baseline, who);
      }
      assert.equal((await manifest(pathOf(link))).status, 200, 'still active');
    });
  });
}
