import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Bundle, Composition, Patient, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { httpAnswer } from '../helpers/http-answer.js';
import { PROFILE } from '../../src/fhir/profile-urls.js';
import { PROFILES_DIR, baseStructureDefinitions, snapshotFromDifferential } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';
import { SHC_VECTORS, VECTORS, readVector } from '../helpers/fixtures.js';

const fhir = createValidator();
const example = <T = Resource>(file: string): T => JSON.parse(readFileSync(path.join(PROFILES_DIR, 'examples', file), 'utf8')) as T;
const corpus = (file: string): Resource => JSON.parse(readFileSync(path.join(VECTORS, 'corpus', file), 'utf8')) as Resource;
const firstEntry = <T>(file: string): T => example<Bundle>(file).entry?.[0]?.resource as T;
const expressions = (issues: { expression?: string[] }[]) => issues.flatMap((i) => i.expression ?? []).sort();

const IPS_ENTRY_PROFILES = {
  Composition: PROFILE.ipsComposition,
  Patient: PROFILE.usCorePatient,
  AllergyIntolerance: PROFILE.usCoreAllergyIntolerance,
  Condition: PROFILE.usCoreCondition,
  MedicationStatement: PROFILE.ipsMedicationStatement,
};

describe('profiles', () => {
  test('every PROFILE constant names a loaded profile, and every profile has a constant', () => {
    assert.deepEqual(fhir.profileUrls().sort(), Object.values(PROFILE).sort());
  });

  const valid: [string, string, () => Resource][] = [
    ['usCorePatient', PROFILE.usCorePatient, () => example('us-core-patient.json')],
    ['shcPatient', PROFILE.shcPatient, () => example('shc-patient.json')],
    ['usCoreAllergyIntolerance', PROFILE.usCoreAllergyIntolerance, () => example('us-core-allergyintolerance.json')],
    ['usCoreCondition', PROFILE.usCoreCondition, () => example('us-core-condition.json')],
    ['ipsMedicationStatement', PROFILE.ipsMedicationStatement, () => example('ips-medicationstatement.json')],
    ['c4dicCoverage', PROFILE.c4dicCoverage, () => example('c4dic-coverage.json')],
    ['checkinCoverage', PROFILE.checkinCoverage, () => example('c4dic-coverage.json')],
    ['ipsPatient', PROFILE.ipsPatient, () => example('us-core-patient.json')],
    ['ipsAllergyIntolerance', PROFILE.ipsAllergyIntolerance, () => example('us-core-allergyintolerance.json')],
    ['ipsCondition', PROFILE.ipsCondition, () => example('us-core-condition.json')],
    ['usCoreBloodPressure', PROFILE.usCoreBloodPressure, () => corpus('us-core-6.1.0/blood-pressure.json')],
    ['ipsBundle', PROFILE.ipsBundle, () => example('ips-bundle.json')],
    ['ipsComposition', PROFILE.ipsComposition, () => firstEntry<Composition>('ips-bundle.json')],
    ['visitSummaryBundle', PROFILE.visitSummaryBundle, () => example('visit-summary-bundle.json')],
    ['visitSummaryComposition', PROFILE.visitSummaryComposition, () => firstEntry<Composition>('visit-summary-bundle.json')],
  ];
  for (const [name, url, load] of valid) {
    test(`the ${name} example is valid`, () => {
      assert.deepEqual(fhir.check(load(), url), []);
      assert.doesNotThrow(() => fhir.validate(load(), url));
    });
  }

  const invalid: [string, string, string[]][] = [
    ['us-core-patient-no-identifier.json', PROFILE.usCorePatient, ['Patient.identifier']],
    ['us-core-patient-name-text-only.json', PROFILE.usCorePatient, ['Patient.name[0]']],
    ['patient-unknown-gender.json', PROFILE.usCorePatient, ['Patient.gender']],
    ['shc-patient-no-birthdate.json', PROFILE.shcPatient, ['Patient.birthDate']],
    ['shc-patient-no-birthdate.json', PROFILE.ipsPatient, ['Patient.birthDate']],
    ['c4dic-coverage-no-member-id.json', PROFILE.c4dicCoverage, ['Coverage', 'Coverage.relationship']],
    ['us-core-condition-no-category.json', PROFILE.usCoreCondition, ['Condition', 'Condition.category']],
    ['ips-bundle-composition-not-first.json', PROFILE.ipsBundle, ['Bundle']],
    ['ips-composition-no-allergies.json', PROFILE.ipsComposition, ['Composition']],
  ];
  for (const [file, url, expected] of invalid) {
    test(`invalid/${file} is a 422 at ${expected.join(', ')}`, () => {
      const resource = example(`invalid/${file}`);
      assert.deepEqual(expressions(fhir.check(resource, url)), expected);
      assert.throws(
        () => fhir.validate(resource, url),
        (e: unknown) => httpAnswer(e)?.status === 422 && httpAnswer(e)?.outcome.issue?.every((i) => i.severity === 'error' && i.diagnostics) === true,
      );
    });
  }

  test('profile invariants report their key and text', () => {
    const [issue] = fhir.check(example('invalid/ips-composition-no-allergies.json'), PROFILE.ipsComposition);
    assert.equal(issue?.code, 'invariant');
    assert.match(String(issue?.diagnostics), /^Constraint ktc-ipsc-2 not met: Exactly one Allergies/);
  });

  test('the SMART Health Card example Patient passes the SHC profile but not US Core', () => {
    const card = JSON.parse(readVector(SHC_VECTORS, 'example-00-a-fhirBundle.json')) as Bundle;
    const patient = card.entry?.[0]?.resource as Patient;
    assert.deepEqual(fhir.check(patient, PROFILE.shcPatient), []);
    assert.deepEqual(expressions(fhir.check(patient, PROFILE.usCorePatient)), ['Patient.gender', 'Patient.identifier']);
    assert.deepEqual(fhir.checkBundle(card, { Patient: PROFILE.shcPatient }), []);
  });
});

describe('base-spec checks medplum leaves out or we rely on', () => {
  test('base invariants are evaluated (pat-1 on a contact with no details)', () => {
    const issues = fhir.check({ resourceType: 'Patient', contact: [{ gender: 'male' }] });
    assert.ok(issues.some((i) => i.code === 'invariant' && i.expression?.[0] === 'Patient.contact[0]' && /pat-1/.test(String(i.diagnostics))));
  });

  test('required bindings are enforced, without echoing the rejected value', () => {
    const issues = fhir.check({
      resourceType: 'Patient',
      gender: 'zz-not-a-gender' as Patient['gender'],
      name: [{ use: 'zz-not-a-use' as 'usual', family: 'A' }],
      contact: [{ name: { family: 'B' }, gender: 'zz-not-a-gender' as Patient['gender'] }],
    });
    assert.deepEqual(expressions(issues), ['Patient.contact[0].gender', 'Patient.gender', 'Patient.name[0].use']);
    assert.ok(issues.every((i) => i.code === 'code-invalid'));
    assert.doesNotMatch(JSON.stringify(issues), /zz-not-a/);
  });

  test('required CodeableConcept bindings need a coding from the value set', () => {
    const allergy = example<Resource & { verificationStatus: unknown }>('us-core-allergyintolerance.json');
    allergy.verificationStatus = { text: 'confirmed' };
    assert.deepEqual(expressions(fhir.check(allergy)), ['AllergyIntolerance.verificationStatus']);
  });

  test('required bindings reach backbone elements through contentReference, and entries inside a Bundle', () => {
    const q = { resourceType: 'Questionnaire', status: 'active', item: [{ linkId: '1', type: 'group', item: [{ linkId: '2', type: 'zz' }] }] } as unknown as Resource;
    assert.deepEqual(expressions(fhir.check(q)), ['Questionnaire.item[0].item[0].type']);
    const bundle = { resourceType: 'Bundle', type: 'zz', entry: [{ resource: { resourceType: 'Patient', gender: 'zz' } }] } as unknown as Bundle;
    assert.deepEqual(expressions(fhir.check(bundle)), ['Bundle.entry[0].resource.gender', 'Bundle.type']);
  });

  test('value sets that cannot be enumerated here (MIME types) are not checked', () => {
    const ref = { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/x-ktc-test' } }] } as Resource;
    assert.deepEqual(fhir.check(ref), []);
  });
});

describe('bad input gives issues, never an exception', () => {
  test('a resource nested thousands deep is too costly to validate', () => {
    let item: Record<string, unknown> = { linkId: 'leaf', type: 'display' };
    for (let i = 0; i < 5000; i++) item = { linkId: `g${i}`, type: 'group', item: [item] };
    const issues = fhir.check({ resourceType: 'Questionnaire', status: 'active', item: [item] } as unknown as Resource);
    assert.deepEqual(
      issues.map((i) => [i.code, i.expression]),
      [['too-costly', ['Questionnaire']]],
    );
  });

  test('unknown resource types, and a profile applied to the wrong type', () => {
    assert.deepEqual(expressions(fhir.check({ resourceType: 'constructor' } as unknown as Resource)), ['Resource']);
    assert.deepEqual(expressions(fhir.check({ resourceType: 'DomainResource' } as unknown as Resource)), ['Resource']);
    const [issue] = fhir.check(example('c4dic-coverage.json'), PROFILE.usCorePatient);
    assert.equal(issue?.diagnostics, 'The profile applies only to Patient resources');
  });

  test('a Bundle with null, non-object and prototype-named entries', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [null, 5, { resource: { resourceType: 'constructor' } }] } as unknown as Bundle;
    const issues = fhir.checkBundle(bundle, { Patient: PROFILE.usCorePatient });
    assert.ok(issues.length > 0);
    assert.ok(issues.every((i) => i.expression?.length));
  });
});

describe('checkBundle', () => {
  test('the IPS example passes with a profile per entry type', () => {
    assert.deepEqual(fhir.checkBundle(example('ips-bundle.json'), IPS_ENTRY_PROFILES, PROFILE.ipsBundle), []);
  });

  test('entry issues are prefixed with Bundle.entry[i].resource, and base issues are reported once', () => {
    const bundle = example<Bundle>('ips-bundle.json');
    const patient = bundle.entry?.[1]?.resource as Patient;
    delete patient.identifier;
    patient.gender = 'zz' as Patient['gender'];
    const issues = fhir.checkBundle(bundle, IPS_ENTRY_PROFILES, PROFILE.ipsBundle);
    assert.deepEqual(expressions(issues), ['Bundle.entry[1].resource.gender', 'Bundle.entry[1].resource.identifier']);
  });

  test('a root invariant of an entry profile is reported at the entry', () => {
    const bundle = example<Bundle>('ips-bundle.json');
    bundle.entry![0]!.resource = example('invalid/ips-composition-no-allergies.json');
    assert.deepEqual(expressions(fhir.checkBundle(bundle, IPS_ENTRY_PROFILES, PROFILE.ipsBundle)), ['Bundle.entry[0].resource']);
  });

  test('a visit summary without its Encounter fails the Bundle and Composition profiles', () => {
    const bundle = example<Bundle>('invalid/visit-summary-bundle-no-encounter.json');
    const issues = fhir.checkBundle(bundle, { Composition: PROFILE.visitSummaryComposition }, PROFILE.visitSummaryBundle);
    assert.deepEqual(expressions(issues), ['Bundle', 'Bundle.entry[0].resource.encounter']);
    assert.throws(
      () => fhir.validateBundle(bundle, { Composition: PROFILE.visitSummaryComposition }, PROFILE.visitSummaryBundle),
      (e: unknown) => httpAnswer(e)?.status === 422,
    );
  });
});

describe('snapshots from differentials', () => {
  const patientBase = baseStructureDefinitions().get('Patient')!;
  const differential = (element: StructureDefinition['differential']): StructureDefinition => ({
    resourceType: 'StructureDefinition',
    url: 'http://ktc-gateway.example/test',
    name: 'Test',
    status: 'draft',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    differential: element,
  });

  test('constraints inside a datatype unfold that datatype beneath the element', () => {
    const sd = snapshotFromDifferential(differential({ element: [{ path: 'Patient.identifier.system', min: 1 }] }), patientBase);
    const paths = sd.snapshot?.element?.map((e) => e.path) ?? [];
    assert.ok(paths.includes('Patient.identifier.value'));
    assert.equal(sd.snapshot?.element?.find((e) => e.path === 'Patient.identifier.system')?.min, 1);
  });

  test('slicing and unknown paths are refused rather than ignored', () => {
    assert.throws(() => snapshotFromDifferential(differential({ element: [{ path: 'Patient.identifier', sliceName: 'mrn' }] }), patientBase), /slicing/);
    assert.throws(() => snapshotFromDifferential(differential({ element: [{ path: 'Patient.nickname', min: 1 }] }), patientBase), /not an element/);
  });
});

test('malformed primitive extensions are a structure issue, not a crash', () => {
  const issues = createValidator().check({ resourceType: 'Encounter', status: 'arrived', _status: [false], class: { code: 'AMB' } } as never);
  assert.equal(issues[0]?.code, 'structure');
});
