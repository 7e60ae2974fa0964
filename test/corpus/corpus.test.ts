import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import type { ReceivedBundle } from '../../src/checkin/received.js';
import { validateCheckin } from '../../src/checkin/validate.js';
import { claimedProfiles } from '../../src/fhir/profile-selection.js';
import { createValidator } from '../../src/fhir/validator.js';
import { SHC_VECTORS, VECTORS } from '../helpers/fixtures.js';

/** Published examples (test/vectors/corpus/README.md says where each comes from) sent as check-ins. */
const CORPUS = path.join(VECTORS, 'corpus');

/** Known-invalid examples and where they must be refused; the README says why each is invalid. */
const KNOWN_INVALID: Record<string, string[]> = {
  'us-core-6.1.0/diagnosticreport-cbc.json': ['Bundle.entry[1].resource.text.div'],
  'carin-dic-1.1.0/Example-Coverage1.json': ['Bundle.entry[1].resource.text.div'],
};

const holder: Patient = { resourceType: 'Patient', name: [{ family: 'Holder', given: ['Card'] }], birthDate: '1970-01-01' };

/** As a wallet sends it: a Bundle as published, a single resource beside the card holder. */
function asCheckin(example: Resource): Bundle {
  if (example.resourceType === 'Bundle') return example;
  const entries = example.resourceType === 'Patient' ? [] : [{ fullUrl: 'urn:uuid:0b7e7f0e-0000-4000-8000-000000000001', resource: holder }];
  return { resourceType: 'Bundle', type: 'collection', entry: [...entries, { resource: example }] };
}

const examples = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(path.join(CORPUS, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${d.name}/${f}`),
  )
  .sort();

const fhir = createValidator();
const check = (bundle: Bundle, profileSet: ReceivedBundle['profileSet']) =>
  validateCheckin({ method: 'bundle', bundles: [{ bundle, profileSet }], verified: false, signatures: [] }, fhir);

describe('corpus: published examples sent as check-ins', () => {
  test('the corpus is there, with every folder and known-invalid file the README lists', () => {
    assert.ok(examples.length >= 30, `${examples.length} examples`);
    for (const file of Object.keys(KNOWN_INVALID)) assert.ok(examples.includes(file), file);
    const readme = readFileSync(path.join(CORPUS, 'README.md'), 'utf8');
    for (const folder of new Set(examples.map((e) => e.split('/')[0]))) assert.ok(readme.includes(`\`${folder}/\``), folder);
  });

  for (const file of examples) {
    const expected = KNOWN_INVALID[file];
    test(expected ? `${file} is refused at ${expected.join(', ')}` : `${file} is accepted`, () => {
      const example = JSON.parse(readFileSync(path.join(CORPUS, file), 'utf8')) as Resource;
      const bundle = asCheckin(example);
      const r = check(bundle, 'fhir');
      if (expected) {
        assert.deepEqual([...new Set(r.errors.flatMap((i) => i.expression ?? []))].sort(), expected);
        return;
      }
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.dropped, []);
      // Claims not enforced here are each reported, never passed over in silence.
      const claims = (bundle.entry ?? []).flatMap((e) => (e.resource ? claimedProfiles(e.resource) : [])).length + claimedProfiles(bundle).length;
      assert.ok(r.warnings.length <= claims);
      assert.ok(r.warnings.every((w) => w.severity === 'warning' && w.expression?.[0]?.endsWith('.meta.profile')));
    });
  }

  test('IPS documents among them are held to the IPS rules: without the allergies section one is refused', () => {
    const ips = examples.filter((f) => f.startsWith('ips/') || f.startsWith('au-ps/'));
    assert.equal(ips.length, 4);
    for (const file of ips) {
      const bundle = JSON.parse(readFileSync(path.join(CORPUS, file), 'utf8')) as Bundle;
      const composition = bundle.entry![0]!.resource as { section: { code?: { coding?: { code?: string }[] } }[] };
      composition.section = composition.section.filter((s) => !s.code?.coding?.some((c) => c.code === '48765-2'));
      assert.ok(
        check(bundle, 'fhir').errors.some((i) => i.expression?.includes('Bundle.entry[0].resource')),
        file,
      );
    }
  });

  test('the SMART Health Card example bundle is accepted as card content', () => {
    const bundle = JSON.parse(readFileSync(path.join(SHC_VECTORS, 'example-00-a-fhirBundle.json'), 'utf8')) as Bundle;
    assert.deepEqual(check(bundle, 'shc').errors, []);
  });
});
