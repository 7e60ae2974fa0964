import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { createCpuPool, type CpuPool } from '../../src/cpu/pool.js';
import { DomainError } from '../../src/errors.js';
import { HttpError } from '../../src/fhir/outcome.js';
import type { SignatureCheck } from '../../src/shc/card-work.js';
import { encryptFile } from '../../src/shl/jwe.js';
import { checkinWith, invalidCondition } from '../attacks/stall-payloads.js';
import { SHC_EXAMPLE_ISSUER, SHC_VECTORS, readVector, shcExampleIssuer } from '../helpers/fixtures.js';

/** The worker pool and its inline twin give the same answers; domain errors cross the thread boundary as themselves, capped. */

const content = (n: number, signatures: SignatureCheck[] = []) => ({
  method: 'bundle' as const,
  bundles: [{ bundle: checkinWith(n, invalidCondition), profileSet: 'fhir' as const }],
  verified: false,
  signatures,
});

for (const threads of [1, 0]) {
  describe(`CPU pool with ${threads} thread(s)`, () => {
    const pool: CpuPool = createCpuPool({ threads, idleMs: 1000, maxIssues: 10, hardTimeoutMs: 120_000 });
    after(() => pool.close());

    test('a validation error comes back as the same DomainError with at most maxIssues issues and a count of the rest', async () => {
      await pool.warm();
      const e = await pool.run('checkin.validate', { content: content(30), budgetMs: 60_000 }).catch((x: unknown) => x);
      assert.ok(e instanceof DomainError);
      assert.equal(e.code, 'ERR_FHIR_INVALID');
      assert.equal(e.issues!.length, 11);
      assert.match(e.issues![10]!.diagnostics!, /^\d+ more issues not listed \(at most 10 are\)$/);
    });

    test('a valid resource passes; an exhausted budget is 422 too-costly', async () => {
      await pool.run('fhir.validate', { resource: { resourceType: 'Patient', gender: 'male' } as Resource, budgetMs: 60_000 });
      const e = await pool.run('checkin.validate', { content: content(200), budgetMs: 0 }).catch((x: unknown) => x);
      assert.ok(e instanceof HttpError);
      assert.equal(e.outcome.issue![0]!.code, 'too-costly');
    });

    test('SHL files are decrypted and inflated within the cap', async () => {
      const key = new Uint8Array(32).fill(1);
      const jwe = await encryptFile('{"resourceType":"Patient"}', key, 'application/fhir+json', { zip: true });
      assert.deepEqual(await pool.run('shl.decrypt', { jwe, key, maxBytes: 1000 }), { contentType: 'application/fhir+json', content: '{"resourceType":"Patient"}' });
      const bomb = await encryptFile('A'.repeat(100_000), key, 'application/fhir+json', { zip: true });
      const e = await pool.run('shl.decrypt', { jwe: bomb, key, maxBytes: 1000 }).catch((x: unknown) => x);
      assert.ok(e instanceof DomainError);
      assert.equal(e.code, 'ERR_SHL_FILE_LIMIT');
    });

    test('SMART Health Cards are opened within one shared inflate allowance', async () => {
      const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();
      const [opened] = await pool.run('shc.open', { jwsList: [jws], maxInflatedBytes: 1_000_000 });
      assert.equal(opened!.payload.iss, SHC_EXAMPLE_ISSUER);
      // Room for one card's payload, not for two.
      const oneAndAHalf = Math.round(1.5 * Buffer.byteLength(JSON.stringify(opened!.payload)));
      assert.equal((await pool.run('shc.open', { jwsList: [jws], maxInflatedBytes: oneAndAHalf })).length, 1);
      const e = await pool.run('shc.open', { jwsList: [jws, jws], maxInflatedBytes: oneAndAHalf }).catch((x: unknown) => x);
      assert.ok(e instanceof DomainError);
      assert.equal(e.code, 'ERR_SHC_INFLATE_LIMIT');
    });

    test("a check-in's card signatures are checked before its content: one forgery refuses it, whatever the content", async () => {
      const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();
      const { x, y } = shcExampleIssuer().jwks.keys[0] as { x: string; y: string };
      const tampered = `${jws.slice(0, -4)}${jws.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      const key = { x, y };
      const forged = [
        { jws, key },
        { jws: tampered, key },
      ];
      for (const n of [0, 30]) {
        const e = await pool.run('checkin.validate', { content: content(n, forged), budgetMs: 60_000 }).catch((x: unknown) => x);
        assert.ok(e instanceof DomainError);
        assert.equal(e.code, 'ERR_SHC_SIGNATURE');
      }
      assert.deepEqual((await pool.run('checkin.validate', { content: content(0, [{ jws, key }]), budgetMs: 60_000 })).dropped, []);
    });
  });
}
