import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { migrate } from '../../src/db/migrate.js';
import { DomainError } from '../../src/errors.js';
import { getResource, insertNewResources, putResource } from '../../src/fhir/resource-store.js';
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
      await assert.rejects(insertNewResources(db, [{ ...nul, id: 'p3' }], owner, now), refused);
      assert.equal(await getResource(db, 'Patient', 'p2', 'Clinic A'), undefined);
      assert.equal(await getResource(db, 'Patient', 'p3', 'Clinic A'), undefined);
    });
  });
}
