import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import request from 'supertest';
import { startTestGateway } from '../helpers/gateway.js';
import { testDatabases } from '../helpers/db.js';

for (const tdb of testDatabases()) {
  describe(`GET /fhir/metadata on ${tdb.name}`, () => {
    after(() => tdb.cleanup());

    test('serves a CapabilityStatement that is valid against the base spec', async () => {
      const gw = await startTestGateway({ db: await tdb.open() });
      try {
        const r = await request(gw.app).get('/fhir/metadata');
        assert.equal(r.status, 200);
        assert.match(String(r.headers['content-type']), /application\/fhir\+json/);
        assert.equal(r.body.resourceType, 'CapabilityStatement');
        assert.equal(r.body.fhirVersion, '4.0.1');
        assert.deepEqual(gw.services.fhir.check(r.body), []);
      } finally {
        await gw.close();
      }
    });
  });
}
