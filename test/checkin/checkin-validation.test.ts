import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Bundle, Composition, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { type CheckinValidation, validateCheckin, withoutDropped } from '../../src/checkin/validate.js';
import type { ReceivedContent } from '../../src/checkin/received.js';
import { OFFICIAL } from '../../src/fhir/profile-urls.js';
import { PROFILES_DIR } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';
import { clipboardBundle } from '../helpers/fixtures.js';

const fhir = createValidator();
const asContent = (bundle: Bundle): ReceivedContent => ({ method: 'bundle', bundles: [{ bundle, profileSet: 'fhir' }], verified: false, signatures: [] });
const run = (bundle: Bundle): CheckinValidation => validateCheckin(asContent(bundle), fhir);
const at = (issues: OperationOutcomeIssue[]) => issues.flatMap((i) => i.expression ?? []);
const ipsDocument = (): Bundle => JSON.parse(readFileSync(path.join(PROFILES_DIR, 'examples', 'ips-bundle.json'), 'utf8')) as Bundle;

/** The clipboard Patient with neither identifier nor gender: valid R4, not US Core. */
function patientWithoutGender(profile?: string): Bundle {
  const bundle = clipboardBundle();
  const patient = bundle.entry![0]!.resource as Patient;
  delete patient.gender;
  if (profile) patient.meta = { profile: [profile] };
  return bundle;
}

describe('check-in validation: profiles chosen by meta.profile', () => {
  test('a Patient claiming the official US Core Patient without a gender is refused at gender', () => {
    const r = run(patientWithoutGender(`${OFFICIAL.usCorePatient}|6.1.0`));
    assert.deepEqual(at(r.errors), ['Bundle.entry[0].resource.gender']);
  });

  test('the same Patient claiming nothing is accepted (base spec and what check-in needs)', () => {
    const r = run(patientWithoutGender());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
  });

  test('an unclaimed Patient still needs what check-in binds on: a name part and a birth date', () => {
    const bundle = patientWithoutGender();
    delete (bundle.entry![0]!.resource as Patient).birthDate;
    assert.deepEqual(at(run(bundle).errors), ['Bundle.entry[0].resource.birthDate']);
  });

  test('a claimed profile the gateway does not know is a warning, never silence, never a refusal', () => {
    const bundle = clipboardBundle();
    bundle.entry![0]!.resource!.meta = { profile: ['http://example.org/fhir/StructureDefinition/national-patient'] };
    const r = run(bundle);
    assert.deepEqual(r.errors, []);
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0]?.severity, 'warning');
    assert.deepEqual(r.warnings[0]?.expression, ['Bundle.entry[0].resource.meta.profile']);
    assert.match(String(r.warnings[0]?.diagnostics), /national-patient/);
  });

  test('an unclaimed Condition without a US Core category is accepted; one claiming US Core is not', () => {
    const bundle = clipboardBundle();
    const i = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'Condition');
    delete (bundle.entry![i]!.resource as { category?: unknown }).category;
    assert.deepEqual(run(bundle).errors, []);
    bundle.entry![i]!.resource!.meta = { profile: [OFFICIAL.usCoreConditionProblems] };
    assert.deepEqual(at(run(bundle).errors).sort(), [`Bundle.entry[${i}].resource`, `Bundle.entry[${i}].resource.category`]);
  });

  test('an Observation claiming US Core Blood Pressure without its components is refused', () => {
    const bundle = clipboardBundle();
    bundle.entry!.push({
      resource: {
        resourceType: 'Observation',
        meta: { profile: [OFFICIAL.usCoreBloodPressure] },
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
        subject: { reference: bundle.entry![0]!.fullUrl! },
        effectiveDateTime: '2026-01-01',
      },
    });
    const i = bundle.entry!.length - 1;
    const r = run(bundle);
    assert.ok(at(r.errors).includes(`Bundle.entry[${i}].resource.component`), JSON.stringify(r.errors));
  });

  test('every base resource type is accepted: PractitionerRole, Consent, Flag, CarePlan, Goal, Encounter…', () => {
    const bundle = clipboardBundle();
    const subject = { reference: bundle.entry![0]!.fullUrl! };
    bundle.entry!.push(
      { resource: { resourceType: 'PractitionerRole', active: true } },
      { resource: { resourceType: 'Flag', status: 'active', code: { text: 'Fall risk' }, subject } },
      { resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject } },
      { resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Walk daily' }, subject } },
      { resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } } },
    );
    const r = run(bundle);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.dropped, []);
  });

  test('a Bundle inside the Bundle and an oversized Binary are dropped with a warning, the rest kept', () => {
    const bundle = clipboardBundle();
    const n = bundle.entry!.length;
    bundle.entry!.push(
      { resource: { resourceType: 'Bundle', type: 'collection' } },
      { resource: { resourceType: 'Binary', contentType: 'application/pdf', data: 'A'.repeat(600 * 1024) } },
      { resource: { resourceType: 'Binary', contentType: 'text/plain', data: 'aGVsbG8=' } },
    );
    const r = run(bundle);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.dropped, [
      { bundleIndex: 0, entryIndex: n },
      { bundleIndex: 0, entryIndex: n + 1 },
    ]);
    assert.deepEqual(at(r.warnings), [`Bundle.entry[${n}].resource`, `Bundle.entry[${n + 1}].resource`]);
    const kept = withoutDropped(asContent(bundle), r.dropped).bundles[0]!.bundle.entry!;
    assert.equal(kept.length, n + 1);
    assert.equal(kept.at(-1)?.resource?.resourceType, 'Binary');
  });

  test('an unknown resource type is a base-spec violation and refuses', () => {
    const bundle = clipboardBundle();
    bundle.entry!.push({ resource: { resourceType: 'Basik' } as never });
    assert.deepEqual(at(run(bundle).errors), [`Bundle.entry[${bundle.entry!.length - 1}].resource`]);
  });
});

describe('check-in validation: IPS documents', () => {
  test('the IPS example document is accepted', () => {
    assert.deepEqual(run(ipsDocument()).errors, []);
  });

  test('an IPS document missing its allergies section is refused at the Composition', () => {
    const bundle = ipsDocument();
    const composition = bundle.entry![0]!.resource as Composition;
    composition.section = composition.section!.filter((s) => s.code?.coding?.[0]?.code !== '48765-2');
    const r = run(bundle);
    assert.ok(
      r.errors.some((i) => i.expression?.includes('Bundle.entry[0].resource') && /ktc-ipsc-2/.test(String(i.diagnostics))),
      JSON.stringify(r.errors),
    );
  });

  test('a required section with neither entries nor an emptyReason is refused', () => {
    const bundle = ipsDocument();
    const problems = (bundle.entry![0]!.resource as Composition).section!.find((s) => s.code?.coding?.[0]?.code === '11450-4')!;
    delete problems.entry;
    assert.ok(run(bundle).errors.some((i) => /ktc-ipsc-4/.test(String(i.diagnostics))));
    problems.emptyReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable' }] };
    assert.deepEqual(run(bundle).errors, []);
  });

  test('IPS entries are held to IPS, not US Core: a Condition without category, a Patient without identifier', () => {
    const bundle = ipsDocument();
    const patient = bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    delete patient.identifier;
    delete patient.gender;
    const condition = bundle.entry!.find((e) => e.resource?.resourceType === 'Condition')!.resource as { category?: unknown; code?: unknown };
    delete condition.category;
    assert.deepEqual(run(bundle).errors, []);
    delete condition.code;
    assert.deepEqual(at(run(bundle).errors), ['Bundle.entry[3].resource.code']);
  });

  test('unless they claim US Core', () => {
    const bundle = ipsDocument();
    const patient = bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    patient.meta = { profile: [OFFICIAL.usCorePatient] };
    delete patient.gender;
    assert.deepEqual(at(run(bundle).errors), ['Bundle.entry[1].resource.gender']);
  });

  test('the IPS Bundle rules apply to the document itself (an identifier), not only to its entries', () => {
    const bundle = ipsDocument();
    delete bundle.identifier;
    assert.ok(at(run(bundle).errors).includes('Bundle.identifier'));
  });
});

describe('check-in validation: narrative', () => {
  const scripts: [string, string][] = [
    ['<script>', '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p><script>alert(1)</script></div>'],
    ['an event handler', '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="alert(1)">Hi</p></div>'],
    ['a javascript: URL', '<div xmlns="http://www.w3.org/1999/xhtml"><a href=" java\tscript:alert(1)">Hi</a></div>'],
    ['an iframe', '<div xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://evil.example/"></iframe>x</div>'],
    ['a form', '<div xmlns="http://www.w3.org/1999/xhtml"><form><input name="q"/></form>x</div>'],
    ['an object', '<div xmlns="http://www.w3.org/1999/xhtml"><object data="x.swf">x</object></div>'],
    ['an embed', '<div xmlns="http://www.w3.org/1999/xhtml"><embed src="x.swf"/>x</div>'],
    ['an external image', '<div xmlns="http://www.w3.org/1999/xhtml"><img src="https://tracker.example/p.gif"/>x</div>'],
    ['no XHTML namespace', '<div><p>Hi</p></div>'],
    ['an upper-case SCRIPT', '<div xmlns="http://www.w3.org/1999/xhtml"><SCRIPT>alert(1)</SCRIPT>x</div>'],
  ];
  for (const [what, div] of scripts) {
    test(`${what} in a narrative is refused with txt-1`, () => {
      const bundle = clipboardBundle();
      const i = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'AllergyIntolerance');
      (bundle.entry![i]!.resource as { text?: unknown }).text = { status: 'generated', div };
      const r = run(bundle);
      assert.deepEqual(at(r.errors), [`Bundle.entry[${i}].resource.text.div`]);
      assert.match(String(r.errors[0]?.diagnostics), /txt-1/);
    });
  }

  test('in a Composition section of an IPS document too', () => {
    const bundle = ipsDocument();
    const section = (bundle.entry![0]!.resource as Composition).section![2]!;
    section.text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x<script>alert(1)</script></div>' };
    assert.deepEqual(at(run(bundle).errors), ['Bundle.entry[0].resource.section[2].text.div']);
  });

  test('the XHTML FHIR allows passes: tables, lists, in-document links and data: images', () => {
    const bundle = clipboardBundle();
    (bundle.entry![0]!.resource as { text?: unknown }).text = {
      status: 'generated',
      div: '<div xmlns="http://www.w3.org/1999/xhtml" xml:lang="en"><table class="x"><tbody><tr><td style="color:red">A</td></tr></tbody></table><ul><li><a href="#p1">1</a></li><li><a href="https://hl7.org/">2</a></li></ul><img src="data:image/png;base64,iVBORw0KGgo=" alt="x"/></div>',
    };
    assert.deepEqual(run(bundle).errors, []);
  });
});
