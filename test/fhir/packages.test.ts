import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Bundle, Patient, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import request from 'supertest';
import * as tar from 'tar';
import { validateCheckin } from '../../src/checkin/validate.js';
import { FhirPackageError, loadFhirPackages } from '../../src/fhir/packages.js';
import { OFFICIAL, PROFILE } from '../../src/fhir/profile-urls.js';
import { baseStructureDefinitions, snapshotFromDifferential } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';
import { clipboardBundle } from '../helpers/fixtures.js';
import { startTestGateway } from '../helpers/gateway.js';
import { testDatabases } from '../helpers/db.js';

const MARITAL = 'http://example.org/fhir/ValueSet/married-only';

/**
 * A stand-in for hl7.fhir.us.core: the official US Core Patient canonical, published (as the
 * registry's packages are) with a snapshot, requiring what our authored look-alike does not
 * (telecom) and not what it does (identifier), and binding maritalStatus to a package value set.
 */
function usCorePatientLookAlike(withSnapshot = true): StructureDefinition {
  const differential: StructureDefinition = {
    resourceType: 'StructureDefinition',
    url: OFFICIAL.usCorePatient,
    version: '6.1.0',
    name: 'USCorePatientProfile',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Patient.telecom', path: 'Patient.telecom', min: 1 },
        { id: 'Patient.maritalStatus', path: 'Patient.maritalStatus', binding: { strength: 'required', valueSet: MARITAL } },
      ],
    },
  };
  return withSnapshot ? snapshotFromDifferential(differential, baseStructureDefinitions().get('Patient')!) : differential;
}

const marriedOnly: ValueSet = {
  resourceType: 'ValueSet',
  url: MARITAL,
  status: 'active',
  compose: { include: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', concept: [{ code: 'M' }] }] },
};

const work = mkdtempSync(path.join(tmpdir(), 'fhir-packages-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Writes `<name>.tgz` laid out as the FHIR package registry publishes packages: everything under package/. */
function buildPackage(dir: string, name: string, files: Record<string, unknown>): void {
  const src = path.join(work, `${name}-src`);
  mkdirSync(path.join(src, 'package', 'example'), { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(src, 'package', file), JSON.stringify(content));
  mkdirSync(dir, { recursive: true });
  tar.c({ gzip: true, sync: true, cwd: src, file: path.join(dir, `${name}.tgz`) }, ['package']);
}

function packagesDir(name: string, withSnapshot = true): string {
  const dir = path.join(work, name);
  buildPackage(dir, 'hl7.fhir.us.core-6.1.0', {
    'package.json': { name: 'hl7.fhir.us.core', version: '6.1.0', fhirVersions: ['4.0.1'] },
    '.index.json': { 'index-version': 1, files: [] },
    'StructureDefinition-us-core-patient.json': usCorePatientLookAlike(withSnapshot),
    'ValueSet-married-only.json': marriedOnly,
    'example/Patient-example.json': { resourceType: 'Patient', id: 'not-loaded' },
  });
  return dir;
}

const at = (issues: { expression?: string[] }[]) => issues.flatMap((i) => i.expression ?? []).sort();

describe('FHIR_PACKAGES_DIR', () => {
  const dir = packagesDir('ok');
  const packages = loadFhirPackages(dir);
  const fhir = createValidator({ packages });
  const patient = (p: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', name: [{ family: 'Doe', given: ['Jo'] }], birthDate: '1990-01-01', ...p });

  test('loads the package profiles (with snapshots) and value sets, not its examples', () => {
    assert.deepEqual(packages.packages, ['hl7.fhir.us.core#6.1.0']);
    assert.deepEqual([...packages.profiles.keys()], [OFFICIAL.usCorePatient]);
    assert.deepEqual([...packages.valueSets.keys()], [MARITAL]);
  });

  test('a claim of the official canonical is checked against the package profile, not the authored look-alike', () => {
    assert.ok(fhir.knows(OFFICIAL.usCorePatient));
    assert.deepEqual(at(fhir.check(patient(), OFFICIAL.usCorePatient)), ['Patient.telecom']);
    assert.deepEqual(fhir.check(patient({ telecom: [{ system: 'phone', value: '555' }] }), OFFICIAL.usCorePatient), []);
    // The authored profile would have refused this Patient (no identifier, no gender).
    assert.ok(createValidator().check(patient({ telecom: [{ system: 'phone', value: '555' }] }), PROFILE.usCorePatient).length > 0);
  });

  test('the package profile also takes the place of the authored one where the gateway applies it by its own URL', () => {
    assert.deepEqual(at(fhir.check(patient(), PROFILE.usCorePatient)), ['Patient.telecom']);
  });

  test('required bindings use the package value sets', () => {
    const married = (code: string) =>
      patient({ telecom: [{ system: 'phone', value: '5' }], maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code }] } });
    assert.deepEqual(fhir.check(married('M'), OFFICIAL.usCorePatient), []);
    assert.deepEqual(at(fhir.check(married('S'), OFFICIAL.usCorePatient)), ['Patient.maritalStatus']);
  });

  test('check-in uses it through meta.profile', () => {
    const bundle: Bundle = clipboardBundle();
    const p = bundle.entry![0]!.resource as Patient;
    p.meta = { profile: [OFFICIAL.usCorePatient] };
    delete p.telecom;
    const r = validateCheckin({ method: 'bundle', bundles: [{ bundle, profileSet: 'fhir' }], verified: false, signatures: [] }, fhir);
    assert.deepEqual(at(r.errors), ['Bundle.entry[0].resource.telecom']);
  });

  test('a package profile without a snapshot, or a broken archive, stops the start with a clear error', () => {
    assert.throws(
      () => loadFhirPackages(packagesDir('no-snapshot', false)),
      (e) => e instanceof FhirPackageError && /has no snapshot/.test(e.message),
    );
    const broken = path.join(work, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'x.tgz'), 'not a tar');
    assert.throws(() => loadFhirPackages(broken), FhirPackageError);
    assert.throws(() => loadFhirPackages(path.join(work, 'missing')), FhirPackageError);
  });

  for (const tdb of testDatabases()) {
    test(`the gateway loads them at start from the FHIR_PACKAGES_DIR setting (${tdb.name})`, async () => {
      const gw = await startTestGateway({ db: await tdb.open(), env: { FHIR_PACKAGES_DIR: dir } });
      try {
        assert.equal(gw.services.config.fhirPackagesDir, dir);
        assert.deepEqual(at(gw.services.fhir.check(patient(), OFFICIAL.usCorePatient)), ['Patient.telecom']);
        assert.equal((await request(gw.app).get('/fhir/metadata')).status, 200);
      } finally {
        await gw.close();
        await tdb.cleanup();
      }
    });
  }
});
