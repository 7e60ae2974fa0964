import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Composition } from '@medplum/fhirtypes';
import request from 'supertest';
import { xhtmlProblem } from '../../src/fhir/narrative.js';
import { PROFILES_DIR } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';
import { visitBundleIssues } from '../../src/visits/validate-visit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { testDatabases } from '../helpers/db.js';

const SCRIPT_DIV = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Seen today</p><script>alert(1)</script></div>';

describe('narrative XHTML rules', () => {
  test('what FHIR narratives may and may not hold', () => {
    const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
    assert.equal(xhtmlProblem(div('<p>ok <b>bold</b> <a name="x">a</a></p>')), undefined);
    assert.match(String(xhtmlProblem(div('<p style="x" onmouseover="steal()">x</p>'))), /event-handler/);
    assert.match(String(xhtmlProblem(div('<a href="JaVaScRiPt:alert(1)">x</a>'))), /script URL/);
    assert.match(String(xhtmlProblem(div('<img src="//cdn.example/x.png"/>'))), /external reference/);
    assert.match(String(xhtmlProblem(div('<base href="https://x.example/"/>x'))), /<base> is not allowed/);
    assert.match(String(xhtmlProblem(div('<link rel="stylesheet" href="x.css"/>x'))), /<link> is not allowed/);
    assert.match(String(xhtmlProblem(div('<style>p{}</style>x'))), /<style> is not allowed/);
    assert.match(String(xhtmlProblem('<p>no div</p>')), /single <div>/);
    assert.match(String(xhtmlProblem(`${div('x')}<div xmlns="http://www.w3.org/1999/xhtml">y</div>`)), /single <div>/);
    assert.match(String(xhtmlProblem(div('   '))), /txt-2/);
    assert.match(String(xhtmlProblem(div('<![CDATA[<script>x</script>]]>'))), /CDATA/);
  });

  test('a visit document with a <script> in a section narrative is refused with txt-1', () => {
    const bundle = JSON.parse(readFileSync(path.join(PROFILES_DIR, 'examples', 'visit-summary-bundle.json'), 'utf8')) as Bundle;
    const composition = bundle.entry![0]!.resource as Composition;
    const patientId = bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource!.id!;
    assert.deepEqual(visitBundleIssues(bundle, patientId, createValidator()), []);
    composition.section![0]!.text = { status: 'generated', div: SCRIPT_DIV };
    const issues = visitBundleIssues(bundle, patientId, createValidator());
    assert.deepEqual(
      issues.map((i) => i.expression?.[0]),
      ['Bundle.entry[0].resource.section[0].text.div'],
    );
    assert.match(String(issues[0]?.diagnostics), /txt-1/);
  });

  for (const tdb of testDatabases()) {
    describe(`on FHIR writes (${tdb.name})`, () => {
      let gw: TestGateway;
      before(async () => {
        gw = await startTestGateway({ db: await tdb.open() });
      });
      after(async () => {
        await gw.close();
        await tdb.cleanup();
      });

      test('an Encounter whose narrative has a <script> is refused with txt-1 and not stored', async () => {
        const token = await gw.clientToken({ clientId: 'ehr', organization: 'Clinic A', scopes: ['system/Encounter.write'] });
        const r = await request(gw.app)
          .post('/fhir/Encounter')
          .auth(token, { type: 'bearer' })
          .send({
            resourceType: 'Encounter',
            status: 'planned',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            text: { status: 'generated', div: SCRIPT_DIV },
          });
        assert.equal(r.status, 422);
        assert.deepEqual(
          r.body.issue.map((i: { expression: string[] }) => i.expression[0]),
          ['Encounter.text.div'],
        );
        assert.match(r.body.issue[0].diagnostics, /txt-1/);
        const stored = await gw.services.db.query<{ n: number }>("SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Encounter'");
        assert.equal(stored.rows[0]?.n, 0);
      });
    });
  }
});
