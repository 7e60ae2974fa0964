import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createCpuPool, type CpuPool } from '../../src/cpu/pool.js';
import type { TaskName } from '../../src/cpu/tasks.js';
import { DomainError } from '../../src/errors.js';
import { deflateCardPayload } from '../../src/shc/deflate.js';
import { INLINE_INFLATED_BYTES, INLINE_JWS_CHARS, pooledShcWork } from '../../src/cpu/shc-work.js';
import { SHC_EXAMPLE_ISSUER, SHC_VECTORS, readVector } from '../helpers/fixtures.js';

/** A wallet's card is opened on the event loop; a big card, or many, still go to the worker threads. */

const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();

/** A compact JWS whose payload inflates to about `bytes` (not a valid card: only its opening is tested). */
function cardInflatingTo(bytes: number): string {
  const payload = {
    iss: SHC_EXAMPLE_ISSUER,
    nbf: 1,
    vc: {
      type: ['https://smarthealth.cards#health-card'],
      credentialSubject: { fhirVersion: '4.0.1', fhirBundle: { resourceType: 'Bundle', type: 'collection', id: 'x'.repeat(bytes) } },
    },
  };
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', zip: 'DEF', kid: 'k' })).toString('base64url');
  return `${header}.${deflateCardPayload(Buffer.from(JSON.stringify(payload))).toString('base64url')}.${'A'.repeat(86)}`;
}

describe('SMART Health Card work: pool or event loop', () => {
  const real = createCpuPool({ threads: 1, idleMs: 1000, maxIssues: 10, hardTimeoutMs: 60_000 });
  const ran: TaskName[] = [];
  const pool: CpuPool = { ...real, run: (task, input) => (ran.push(task), real.run(task, input)) };
  const work = pooledShcWork(pool);
  after(() => real.close());

  test("a wallet's card is opened without a round trip to a thread", async () => {
    ran.length = 0;
    const [opened] = await work.open([jws], 1_000_000);
    assert.equal(opened!.payload.iss, SHC_EXAMPLE_ISSUER);
    assert.deepEqual(ran, []);
  });

  test('a card inflating past the inline allowance is opened on a thread with the full allowance', async () => {
    ran.length = 0;
    const big = cardInflatingTo(INLINE_INFLATED_BYTES * 2);
    const [opened] = await work.open([big], 1_000_000);
    assert.equal(opened!.kid, 'k');
    assert.deepEqual(ran, ['shc.open']);
    const e = await work.open([big], INLINE_INFLATED_BYTES * 1.5).catch((x: unknown) => x);
    assert.ok(e instanceof DomainError);
    assert.equal(e.code, 'ERR_SHC_INFLATE_LIMIT');
    assert.match(e.message, new RegExp(String(INLINE_INFLATED_BYTES * 1.5)), 'the refusal names the real allowance');
  });

  test('an allowance below the inline one is the allowance; other errors are not retried', async () => {
    ran.length = 0;
    const e = await work.open([cardInflatingTo(2000)], 1000).catch((x: unknown) => x);
    assert.ok(e instanceof DomainError);
    assert.equal(e.code, 'ERR_SHC_INFLATE_LIMIT');
    const bad = await work.open(['not.a.card'], 1_000_000).catch((x: unknown) => x);
    assert.ok(bad instanceof DomainError);
    assert.deepEqual(ran, []);
  });

  test('a long JWS goes to the pool even when it inflates to little (bytes after the DEFLATE stream)', async () => {
    ran.length = 0;
    const [h, p, sig] = cardInflatingTo(100).split('.');
    const padded = `${h}.${p}${'A'.repeat(INLINE_JWS_CHARS)}.${sig}`;
    await work.open([padded], 1_000_000).catch(() => undefined);
    assert.deepEqual(ran, ['shc.open']);
  });

  test('many cards are opened on the pool', async () => {
    ran.length = 0;
    assert.equal((await work.open([jws, jws, jws], 1_000_000)).length, 3);
    assert.deepEqual(ran, ['shc.open']);
  });
});
