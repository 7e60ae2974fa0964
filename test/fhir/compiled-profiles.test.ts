import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { validateAgainstProfile } from '../../src/fhir/compiled-profiles.js';
import { loadProfiles, PROFILES_DIR } from '../../src/fhir/profiles.js';
import { createValidator } from '../../src/fhir/validator.js';

/** The compiled-profile shortcut (parse once) must give exactly what validateResource gives. */

const issuesOf = (f: () => unknown) => {
  try {
    return f();
  } catch (e) {
    if (e instanceof OperationOutcomeError) return e.outcome.issue;
    throw e;
  }
};

const dir = path.join(PROFILES_DIR, 'examples');
const samples = [
  ...readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)),
  ...readdirSync(path.join(dir, 'invalid')).map((f) => path.join(dir, 'invalid', f)),
].map((file) => ({ file: path.basename(file), resource: JSON.parse(readFileSync(file, 'utf8')) as Resource }));

describe('compiled profiles', () => {
  const fhir = createValidator();
  const profiles = loadProfiles();

  test('same issues as validateResource for every example, valid and invalid, against every profile of its type', () => {
    let compared = 0;
    for (const { file, resource } of samples) {
      for (const profile of profiles.values()) {
        if (profile.type !== resource.resourceType) continue;
        fhir.check(resource); // index the base definitions this resource needs
        const expected = issuesOf(() => validateResource(resource, { profile }));
        assert.deepEqual(issuesOf(() => validateAgainstProfile(resource, profile)), expected, `${file} against ${profile.url}`);
        compared++;
      }
    }
    assert.ok(compared >= 15, `${compared} comparisons`);
  });

  test('compiling a Bundle profile leaves base Bundle validation as it was', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'male' } }] } as Resource;
    const before = fhir.check(bundle);
    for (const profile of profiles.values()) if (profile.type === 'Bundle') issuesOf(() => validateAgainstProfile(bundle, profile));
    assert.deepEqual(fhir.check(bundle), before);
  });
});
