import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { matchPatientToIdentity } from '../../src/identity/demographic-match.js';
import type { VerifiedIdentity } from '../../src/identity/types.js';
import { SHC_VECTORS, readVector } from '../helpers/fixtures.js';

function identity(name: VerifiedIdentity['name'] | undefined, birthDate: string | null = '1951-01-20'): VerifiedIdentity {
  return {
    issuer: 'https://idp.example',
    subject: 's-1',
    ial: 2,
    aal: 2,
    ...(name ? { name } : {}),
    ...(birthDate ? { birthDate } : {}),
    evidence: {},
  };
}

const john = identity({ given: ['John', 'B.'], family: 'Anyperson' });

function patient(name: Patient['name'], birthDate: string | null = '1951-01-20'): Patient {
  return { resourceType: 'Patient', ...(name ? { name } : {}), ...(birthDate ? { birthDate } : {}) };
}

describe('matchPatientToIdentity', () => {
  test('the spec example card patient matches John B. Anyperson born 1951-01-20', () => {
    const bundle = JSON.parse(readVector(SHC_VECTORS, 'example-00-a-fhirBundle.json')) as Bundle;
    const p = bundle.entry?.map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
    assert.ok(p);
    assert.deepEqual(matchPatientToIdentity(p, john), { ok: true });
  });

  test('case, accents, whitespace, punctuation and given-name order are ignored', () => {
    const id = identity({ given: ['José', 'María'], family: "O'Brien-Núñez" });
    for (const name of [
      [{ given: ['jose', 'maria'], family: 'OBRIEN NUNEZ' }],
      [{ given: ['María', 'José'], family: "O'Brien-Núñez" }],
      [{ given: ['  JOSÉ  '], family: 'obrien-nunez' }],
      [{ given: ['J.', 'Maria'], family: 'Obrien Nunez' }],
    ]) {
      assert.deepEqual(matchPatientToIdentity(patient(name), id), { ok: true }, JSON.stringify(name));
    }
  });

  test('a middle name present on only one side still matches; any of the Patient names may match', () => {
    assert.deepEqual(matchPatientToIdentity(patient([{ given: ['John'], family: 'Anyperson' }]), john), { ok: true });
    const names = [
      { given: ['Johnny'], family: 'Smith' },
      { given: ['John', 'B'], family: 'ANYPERSON', use: 'official' as const },
    ];
    assert.deepEqual(matchPatientToIdentity(patient(names), john), { ok: true });
  });

  test('free-text names on either side are compared word by word', () => {
    assert.deepEqual(matchPatientToIdentity(patient([{ text: 'John B. Anyperson' }]), john), { ok: true });
    assert.deepEqual(matchPatientToIdentity(patient([{ given: ['John'], family: 'Anyperson' }]), identity({ given: [], text: 'ANYPERSON, John' })), {
      ok: true,
    });
    assert.equal(matchPatientToIdentity(patient([{ text: 'Jane Anyperson' }]), john).ok, false);
  });

  test('a different person, name or birth date is refused without echoing any value', () => {
    const cases: Array<[Patient, VerifiedIdentity]> = [
      [patient([{ given: ['Jane'], family: 'Anyperson' }]), john],
      [patient([{ given: ['John', 'B.'], family: 'Anybody' }]), john],
      [patient([{ given: ['J.'], family: 'Anyperson' }]), john],
      [patient([{ given: ['John', 'B.'], family: 'Anyperson' }], '1951-01-21'), john],
      [patient([{ given: ['John', 'B.'], family: 'Anyperson' }], null), john],
      [patient(undefined), john],
      [patient([{ given: ['John'], family: 'Anyperson' }]), identity(undefined)],
      [patient([{ given: ['John'], family: 'Anyperson' }]), identity({ given: ['John'], family: 'Anyperson' }, null)],
    ];
    for (const [p, id] of cases) {
      const r = matchPatientToIdentity(p, id);
      assert.equal(r.ok, false, JSON.stringify(p));
      if (!r.ok) for (const secret of ['John', 'Jane', 'Anyperson', 'Anybody', '1951']) assert.ok(!r.reason.includes(secret), r.reason);
    }
  });
});
