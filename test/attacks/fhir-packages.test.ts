import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import type { Patient, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import * as tar from 'tar';
import { FhirPackageError, loadFhirPackages } from '../../src/fhir/packages.js';
import { PROFILE } from '../../src/fhir/profile-urls.js';
import { baseStructureDefinitions, snapshotFromDifferential } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';

/** Hostile FHIR_PACKAGES_DIR contents: the start fails clearly or ignores them, bounded in memory and time. */
const work = mkdtempSync(path.join(tmpdir(), 'fhir-package-attacks-'));
after(() => rmSync(work, { recursive: true, force: true }));

const MANIFEST = { name: 'evil.pkg', version: '1.0.0', fhirVersions: ['4.0.1'] };
const SMALL = { maxPackageBytes: 1024 * 1024, maxEntryBytes: 256 * 1024 };

/** A tar built block by block, so entry names and sizes are exactly what an attacker writes. */
function tarOf(entries: { path: string; body: Buffer; type?: 'File' | 'SymbolicLink'; linkpath?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const header = new tar.Header({
      path: e.path,
      mode: 0o644,
      size: e.type === 'SymbolicLink' ? 0 : e.body.length,
      mtime: new Date(0),
      type: e.type ?? 'File',
      linkpath: e.linkpath ?? '',
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (e.type !== 'SymbolicLink') blocks.push(e.body, Buffer.alloc((512 - (e.body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function dirWith(name: string, tgz: Buffer): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, `${name}.tgz`), tgz);
  return dir;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A Patient profile, with snapshot, under `url`, requiring a telecom. */
function fakePatient(url: string): StructureDefinition {
  return snapshotFromDifferential(
    {
      resourceType: 'StructureDefinition',
      url,
      name: 'FakePatient',
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: { element: [{ id: 'Patient.telecom', path: 'Patient.telecom', min: 1 }] },
    },
    baseStructureDefinitions().get('Patient')!,
  );
}

describe('FHIR_PACKAGES_DIR attacks', () => {
  test('a gzip bomb stops the start with a clear error instead of inflating without bound', () => {
    const bomb = gzipSync(Buffer.concat([tarOf([{ path: 'package/package.json', body: json(MANIFEST) }]), Buffer.alloc(16 * 1024 * 1024)]));
    assert.ok(bomb.length < 64 * 1024);
    const dir = dirWith('bomb', bomb);
    assert.throws(
      () => loadFhirPackages(dir, SMALL),
      (e) => e instanceof FhirPackageError && /inflates to more than/.test(e.message),
    );
  });

  test('one huge JSON file stops the start with a clear error before it is read into memory', () => {
    const huge = Buffer.from(JSON.stringify({ resourceType: 'ValueSet', url: 'http://x.example/vs', description: 'x'.repeat(512 * 1024) }));
    const dir = dirWith(
      'huge',
      gzipSync(
        tarOf([
          { path: 'package/package.json', body: json(MANIFEST) },
          { path: 'package/ValueSet-huge.json', body: huge },
        ]),
      ),
    );
    assert.throws(
      () => loadFhirPackages(dir, SMALL),
      (e) => e instanceof FhirPackageError && /larger than/.test(e.message),
    );
  });

  test('traversal paths and symlinks are neither written nor followed nor loaded', () => {
    const vs = (url: string): ValueSet => ({ resourceType: 'ValueSet', url, status: 'active' });
    const outside = path.join(work, 'escaped.json');
    const dir = dirWith(
      'traversal',
      gzipSync(
        tarOf([
          { path: 'package/package.json', body: json(MANIFEST) },
          { path: `package/../../../${path.relative('/', outside)}`, body: json(vs('http://x.example/escaped')) },
          { path: 'package/ValueSet-link.json', body: Buffer.alloc(0), type: 'SymbolicLink', linkpath: '../../../../etc/hostname' },
          { path: 'package/ValueSet-ok.json', body: json(vs('http://x.example/ok')) },
        ]),
      ),
    );
    symlinkSync('/nonexistent', path.join(dir, 'link.tgz'));
    assert.throws(() => loadFhirPackages(dir), FhirPackageError);
    rmSync(path.join(dir, 'link.tgz'));
    const loaded = loadFhirPackages(dir);
    assert.deepEqual([...loaded.valueSets.keys()], ['http://x.example/ok']);
    assert.equal(existsSync(outside), false);
  });

  test('a named pipe called .tgz stops the start with a clear error instead of blocking it', () => {
    const dir = path.join(work, 'fifo');
    mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'pipe.tgz')]);
    assert.throws(
      () => loadFhirPackages(dir),
      (e) => e instanceof FhirPackageError && /not a regular file/.test(e.message),
    );
  });

  test("a package cannot replace the gateway's own rules by claiming their canonical", () => {
    const own = fakePatient(PROFILE.shcPatient);
    const dir = dirWith(
      'own',
      gzipSync(
        tarOf([
          { path: 'package/package.json', body: json(MANIFEST) },
          { path: 'package/StructureDefinition-own.json', body: json(own) },
        ]),
      ),
    );
    assert.deepEqual([...loadFhirPackages(dir).profiles.keys()], []);
  });

  test('a package cannot redefine the base specification (a base canonical is ignored, base rules stay)', () => {
    const basePatient = 'http://hl7.org/fhir/StructureDefinition/Patient';
    const fake = fakePatient(basePatient);
    const femaleOnly: ValueSet = {
      resourceType: 'ValueSet',
      url: 'http://hl7.org/fhir/ValueSet/administrative-gender',
      status: 'active',
      compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'female' }] }] },
    };
    const dir = dirWith(
      'override',
      gzipSync(
        tarOf([
          { path: 'package/package.json', body: json(MANIFEST) },
          { path: 'package/StructureDefinition-Patient.json', body: json(fake) },
          { path: 'package/ValueSet-administrative-gender.json', body: json(femaleOnly) },
        ]),
      ),
    );
    const packages = loadFhirPackages(dir);
    assert.deepEqual([...packages.profiles.keys(), ...packages.valueSets.keys()], []);
    const fhir = createValidator({ packages });
    const patient: Patient = { resourceType: 'Patient', meta: { profile: [basePatient] }, gender: 'male', name: [{ family: 'Doe' }], birthDate: '1990-01-01' };
    assert.equal(fhir.knows(basePatient), false);
    assert.deepEqual(fhir.check(patient), []);
    assert.deepEqual(
      fhir.check({ ...patient, gender: 'robot' } as unknown as Patient).map((i) => i.expression?.[0]),
      ['Patient.gender'],
    );
  });
});
