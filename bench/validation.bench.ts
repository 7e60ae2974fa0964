import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { validateCheckin } from '../src/checkin/validate.js';
import { createValidator } from '../src/fhir/validator.js';
import { VECTORS } from '../test/helpers/fixtures.js';
import type { Bench, BenchRow } from './types.js';

const ROUNDS = 6;
const ROUND_MS = 700;

/**
 * Resources validated per second by each of `works`, measured in alternating rounds so that load
 * from other processes on the machine falls on both alike.
 */
function resourcesPerSecond(resources: number, works: (() => void)[]): number[] {
  const runs = works.map(() => 0);
  const spent = works.map(() => 0);
  for (const work of works) work();
  for (let round = 0; round < ROUNDS; round++) {
    works.forEach((work, w) => {
      const started = performance.now();
      while (performance.now() - started < ROUND_MS) {
        work();
        runs[w]!++;
      }
      spent[w]! += performance.now() - started;
    });
  }
  return runs.map((n, w) => (n * resources) / (spent[w]! / 1000));
}

/**
 * Check-in validation of a published IPS document (AU PS referral summary, 40-odd resources, each
 * claiming a profile) with profile selection, the IPS Bundle and Composition rules and narrative
 * checks, against the floor of what validation did before profile selection: each entry against one
 * structure definition (here the base spec) and nothing else.
 */
export const bench: Bench = {
  name: 'validation',
  async run(): Promise<BenchRow[]> {
    const file = path.join(VECTORS, 'corpus', 'au-ps', 'Bundle-aups-referral-endoconsult-autogen.json');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    const entries = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource as Resource] : []));
    const fhir = createValidator();
    const content = { method: 'bundle' as const, bundles: [{ bundle, profileSet: 'fhir' as const }], verified: false, signatures: [] };
    if (validateCheckin(content, fhir).errors.length) throw new Error('the bench document no longer validates');
    const [floor, ours] = resourcesPerSecond(entries.length, [
      () => {
        for (const [i, r] of entries.entries()) fhir.check(r, undefined, `Bundle.entry[${i}].resource`);
      },
      () => validateCheckin(content, fhir),
    ]) as [number, number];
    return [
      {
        name: 'IPS document check-in validation (profiles by meta.profile, IPS rules, txt-1) vs one definition per entry',
        value: ours,
        floor,
        unit: 'resources/s',
        higherIsBetter: true,
        goal: '>= 0.8',
        note: `${entries.length} resources per document`,
      },
    ];
  },
};
