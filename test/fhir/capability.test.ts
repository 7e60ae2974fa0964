import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import request from 'supertest';
import { fhirRouteOf, routesOf } from '../../src/fhir/route-table.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { testDatabases } from '../helpers/db.js';

const ID = 'no-such-id';

/** What the statement says is served, as `METHOD path` to try, one per interaction or operation. */
function claimedRoutes(cs: CapabilityStatement): { label: string; method: string; path: string }[] {
  const out: { label: string; method: string; path: string }[] = [];
  const paths: Record<string, [string, string]> = {
    read: ['GET', `/${ID}`],
    vread: ['GET', `/${ID}/_history/1`],
    update: ['PUT', `/${ID}`],
    patch: ['PATCH', `/${ID}`],
    delete: ['DELETE', `/${ID}`],
    'history-instance': ['GET', `/${ID}/_history`],
    'history-type': ['GET', '/_history'],
    create: ['POST', ''],
    'search-type': ['GET', ''],
  };
  for (const r of cs.rest?.[0]?.resource ?? []) {
    for (const i of r.interaction ?? []) {
      const [method, suffix] = paths[i.code]!;
      out.push({ label: `${r.type} ${i.code}`, method, path: `/fhir/${r.type}${suffix}` });
    }
    for (const o of r.operation ?? []) {
      // An operation may be served on the type, on an instance, or both; either counts.
      out.push({ label: `${r.type} ${o.name}`, method: 'POST', path: `/fhir/${r.type}/${o.name}` });
      out.push({ label: `${r.type} ${o.name}`, method: 'POST', path: `/fhir/${r.type}/${ID}/${o.name}` });
    }
  }
  return out;
}

for (const tdb of testDatabases()) {
  describe(`GET /fhir/metadata on ${tdb.name}`, () => {
    let gw: TestGateway;
    let cs: CapabilityStatement;
    before(async () => {
      gw = await startTestGateway({ db: await tdb.open() });
      cs = (await request(gw.app).get('/fhir/metadata')).body as CapabilityStatement;
    });
    after(async () => {
      await gw.close();
      await tdb.cleanup();
    });

    test('serves a CapabilityStatement that is valid against the base spec', async () => {
      const r = await request(gw.app).get('/fhir/metadata');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /application\/fhir\+json/);
      assert.equal(r.body.resourceType, 'CapabilityStatement');
      assert.equal(r.body.fhirVersion, '4.0.1');
      assert.deepEqual(gw.services.fhir.check(r.body), []);
    });

    test('every FHIR route the app mounts is in the statement', () => {
      const listed = new Set(
        (cs.rest?.[0]?.resource ?? []).flatMap((r) => [
          ...(r.interaction ?? []).map((i) => `${r.type} ${i.code}`),
          ...(r.operation ?? []).map((o) => `${r.type} $${o.name.replace(/^\$/, '')}`),
        ]),
      );
      const mounted = routesOf(gw.app.router).flatMap(({ method, path }) => {
        const r = fhirRouteOf(method, path);
        return r ? [{ route: `${method} ${path}`, key: `${r.type} ${r.interaction ?? `$${r.operation}`}` }] : [];
      });
      assert.ok(mounted.length > 5, 'the route table is read');
      for (const { route, key } of mounted) assert.ok(listed.has(key), `${route} is served but the CapabilityStatement does not list ${key}`);
    });

    test('everything the statement lists is served (answered by a route, not "No route")', async () => {
      const claimed = claimedRoutes(cs);
      assert.ok(claimed.length > 5);
      const served = new Set<string>();
      for (const c of claimed) {
        const r = await request(gw.app)
          [c.method.toLowerCase() as 'get'](c.path)
          .send(c.method === 'GET' || c.method === 'DELETE' ? undefined : {});
        if (!(r.status === 404 && /^No route for/.test(String(r.body?.issue?.[0]?.diagnostics)))) served.add(c.label);
      }
      for (const c of claimed) assert.ok(served.has(c.label), `the CapabilityStatement lists ${c.label}, which no route serves`);
    });

    test('supportedProfile names the published canonicals check-in enforces, with what is enforced', () => {
      const patient = cs.rest?.[0]?.resource?.find((r) => r.type === 'Patient');
      assert.ok(patient?.supportedProfile?.includes('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'));
      assert.ok(patient?.supportedProfile?.includes('http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips'));
      assert.match(String(patient?.documentation), /enforced: ktc-us-core-patient, ktc-ips-patient, ktc-shc-patient/);
      const coverage = cs.rest?.[0]?.resource?.find((r) => r.type === 'Coverage');
      assert.deepEqual(coverage?.supportedProfile, ['http://hl7.org/fhir/us/insurance-card/StructureDefinition/C4DIC-Coverage']);
    });

    test('the Location of a created resource is a URL the gateway serves', async () => {
      const token = await gw.clientToken({ clientId: 'ehr', organization: 'Clinic A', scopes: ['system/Encounter.write', 'system/Encounter.read'] });
      const created = await request(gw.app)
        .post('/fhir/Encounter')
        .auth(token, { type: 'bearer' })
        .send({ resourceType: 'Encounter', status: 'planned', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const location = new URL(String(created.headers.location));
      const read = await request(gw.app).get(location.pathname).auth(token, { type: 'bearer' });
      assert.equal(read.status, 200);
      assert.equal(read.body.id, created.body.id);
    });
  });
}
