import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { migrate } from '../../src/db/migrate.js';
import { DomainError } from '../../src/errors.js';
import { getResource, putResource, putResourceWithNew } from '../../src/fhir/resource-store.js';
import { testDatabases } from '../helpers/db.js';

/** Resources are stored as json text and versioned through jsonb, which cannot hold U+0000. */

const owner = { organization: 'Clinic A' };
const now = new Date('2026-11-30T02:00:00Z');

for (const tdb of testDatabases()) {
  describe(`resource store on ${tdb.name}`, () => {
    after(() => tdb.cleanup());

    test('a resource is versioned on every put, and a backslash before "u0000" is only text', async () => {
      const db = await tdb.open();
      await migrate(db);
      const patient: Patient & { id: string } = { resourceType: 'Patient', id: 'p1', name: [{ text: 'C:\\u0000 is a path, not a NUL' }] };
      assert.equal((await putResource(db, patient, owner, now)).meta?.versionId, '1');
      assert.equal((await putResource(db, patient, owner, now)).meta?.versionId, '2');
      const stored = await getResource<Patient>(db, 'Patient', 'p1', 'Clinic A');
      assert.equal(stored?.meta?.versionId, '2');
      assert.equal(stored?.name?.[0]?.text, 'C:\\u0000 is a path, not a NUL');
    });

    test('a resource holding U+0000 is refused as invalid FHIR on every path, and nothing is stored', async () => {
      const db = await tdb.open();
      await migrate(db);
      const nul: Patient & { id: string } = { resourceType: 'Patient', id: 'p2', name: [{ text: 'a\u0000b' }] };
      const refused = (e: unknown) => e instanceof DomainError && e.code === 'ERR_FHIR_INVALID';
      await assert.rejects(putResource(db, nul, owner, now), refused);
      await assert.rejects(putResourceWithNew(db, { resourceType: 'Patient', id: 'p4' }, [{ ...nul, id: 'p3' }], owner, now), refused);
      assert.equal(await getResource(db, 'Patient', 'p2', 'Clinic A'), undefined);
      assert.equal(await getResource(db, 'Patient', 'p3', 'Clinic A'), undefined);
      assert.equal(await getResource(db, 'Patient', 'p4', 'Clinic A'), undefined);
      // Past the rows one statement takes too, and outside a transaction: every text is checked before anything is written.
      const many = Array.from({ length: 1001 }, (_, i): Patient & { id: string } => ({ resourceType: 'Patient', id: `n${i}` }));
      many[1000] = { ...nul, id: 'n1000' };
      await assert.rejects(putResourceWithNew(db, { resourceType: 'Patient', id: 'p7' }, many, owner, now), refused);
      assert.equal(await getResource(db, 'Patient', 'p7', 'Clinic A'), undefined);
      assert.equal(await getResource(db, 'Patient', 'n0', 'Clinic A'), undefined);
    });

    test('a put with new resources stores every one as version 1, past the rows one statement takes, and bumps the put one', async () => {
      const db = await tdb.open();
      await migrate(db);
      // 1,001: one more than a statement carries, so the last goes in a statement of its own.
      const fresh = Array.from({ length: 1001 }, (_, i): Observation & { id: string } => ({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' } }));
      const patient: Patient & { id: string } = { resourceType: 'Patient', id: 'p5' };
      const first = await putResourceWithNew(db, patient, fresh, owner, now);
      assert.equal(first.resource.meta?.versionId, '1');
      assert.deepEqual(
        first.fresh.map((r) => r.meta?.versionId),
        fresh.map(() => '1'),
      );
      for (const id of ['o0', 'o999', 'o1000']) assert.equal((await getResource(db, 'Observation', id, 'Clinic A'))?.meta?.versionId, '1', id);
      const again = await putResourceWithNew(db, patient, [{ resourceType: 'Encounter', id: 'e1', status: 'in-progress', class: { code: 'AMB' } }], owner, now);
      assert.equal(again.resource.meta?.versionId, '2');
      assert.equal((await getResource(db, 'Patient', 'p5', 'Clinic A'))?.meta?.versionId, '2');
      assert.equal((await getResource(db, 'Encounter', 'e1', 'Clinic A'))?.meta?.versionId, '1');
    });

    test("another organization's resource is not overwritten, and the new resources put with it are not stored", async () => {
      const db = await tdb.open();
      await migrate(db);
      await putResource(db, { resourceType: 'Patient', id: 'p6' }, { organization: 'Clinic B' }, now);
      // Outside a transaction too: the new resources go in only with the put one.
      const put = putResourceWithNew(
        db,
        { resourceType: 'Patient', id: 'p6' },
        [{ resourceType: 'Encounter', id: 'e2', status: 'in-progress', class: { code: 'AMB' } }],
        owner,
        now,
      );
      await assert.rejects(put, /belongs to another organization/);
      assert.equal(await getResource(db, 'Patient', 'p6', 'Clinic A'), undefined);
      assert.equal((await getResource(db, 'Patient', 'p6', 'Clinic B'))?.meta?.versionId, '1');
      assert.equal(await getResource(db, 'Encounter', 'e2', 'Clinic A'), undefined);
    });
  });
}
