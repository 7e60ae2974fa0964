import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkModelOutput } from '../../src/summaries/check-output.js';
import { extractFacts, narrativeText } from '../../src/summaries/facts.js';
import { fallbackOutput } from '../../src/summaries/fallback.js';
import { countSyllables, fleschKincaidGrade, gradeApplies } from '../../src/summaries/readability.js';
import { REDACTED, redactorFor } from '../../src/summaries/redact.js';
import { RED_FLAGS, findRedFlags } from '../../src/summaries/red-flags.js';
import { enforceSeekCare } from '../../src/summaries/safety.js';
import { PHI, visitBundle } from './visit-bundle.js';

describe('readability', () => {
  test('syllables by vowel groups, silent endings dropped', () => {
    const expected: Record<string, number> = { the: 1, cake: 1, hoped: 1, table: 2, pressure: 2, medicine: 3, hypertension: 4, lisinopril: 4, 'blood,': 1, '10': 0 };
    for (const [word, n] of Object.entries(expected)) assert.equal(countSyllables(word), n, word);
  });

  test('Flesch-Kincaid grade: 0.39 words/sentence + 11.8 syllables/word - 15.59', () => {
    assert.equal(fleschKincaidGrade(['Take one pill each day.']), -1.8);
    assert.equal(fleschKincaidGrade(['Take one pill', 'each day']), -2.8, 'each text is at least one sentence');
    const hard = fleschKincaidGrade([
      'Your comprehensive cardiovascular evaluation demonstrated satisfactory antihypertensive pharmacological management, necessitating continuation of therapy.',
    ]);
    assert.ok(hard !== undefined && hard > 12);
    assert.equal(fleschKincaidGrade(['', '  ']), undefined);
    assert.equal(fleschKincaidGrade(['Take 2.5 mg daily. Rest.']), fleschKincaidGrade(['Take 2.5 mg daily.', 'Rest.']), 'a decimal point ends no sentence');
  });

  test('the formula is applied to English only', () => {
    assert.ok(gradeApplies('en') && gradeApplies('en-US'));
    assert.ok(!gradeApplies('es') && !gradeApplies('eo'));
  });
});

describe('facts sent to the model', () => {
  test('clinical entries only, with aliases mapped back to the Bundle references', () => {
    const { facts, references } = extractFacts(visitBundle());
    assert.deepEqual([...new Set(facts.map((f) => f.ref.split('/')[0]))].sort(), ['Appointment', 'Composition', 'Condition', 'Encounter', 'MedicationRequest']);
    const condition = facts.find((f) => f.kind === 'diagnosis')!;
    assert.equal(condition.text, 'High blood pressure');
    assert.equal(condition.status, 'active');
    assert.equal(references.get(condition.ref), 'Condition/htn-1', 'an entry with an id is cited as Type/id');
    const med = facts.find((f) => f.kind === 'medication')!;
    assert.equal(references.get(med.ref), 'urn:uuid:5f1c2a0e-0000-4000-8000-000000000005', 'else by its fullUrl');
    assert.deepEqual(med.instructions, ['Take 1 tablet by mouth once a day']);
    assert.equal(facts.find((f) => f.kind === 'appointment')!.when, '2024-09-03 09:00');
    assert.deepEqual(
      facts.filter((f) => f.ref.startsWith('Composition/')).map((f) => [f.kind, f.title]),
      [
        ['note', 'Visit notes'],
        ['instructions', 'Instructions'],
      ],
    );
    const wire = JSON.stringify(facts);
    for (const [what, value] of Object.entries(PHI)) assert.ok(!wire.includes(value), what);
  });

  test('free text is redacted of every identifying value in the Bundle, and of contact-like patterns', () => {
    const redact = redactorFor(visitBundle());
    const text = redact(`QUIMBLETON, ${PHI.given} (${PHI.mrn}) lives in ${PHI.city}; call (312) 555-0199 or a.b@c.org, SSN 123-45-6789.`);
    assert.equal(text, `${REDACTED}, ${REDACTED} (${REDACTED}) lives in ${REDACTED}; call ${REDACTED} or ${REDACTED}, SSN ${REDACTED}.`);
    const clinical = 'On 2024-03-01 BP 142/90; take 10 mg at 8:00; recheck in 6 months (code 38341003).';
    assert.equal(redact(clinical), clinical, 'dates, doses and codes stay');
    assert.equal(redact('Plan: Acme Health Plan covers it'), `Plan: ${REDACTED} covers it`, 'an organization is redacted as a whole name, not word by word');
  });

  test('narrative XHTML becomes plain sentences', () => {
    assert.equal(narrativeText('<div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; two</p><ul><li>three</li><li>four</li></ul></div>'), 'One & two. three. four.');
    assert.equal(narrativeText('<div xmlns="http://www.w3.org/1999/xhtml"> </div>'), undefined);
  });
});

describe('safety', () => {
  test('red-flag terms (one data file) are found in any fact, negated or not', () => {
    assert.ok(RED_FLAGS.flags.some((f) => f.id === 'suicide') && RED_FLAGS.emergencyNumber === '911');
    const { facts } = extractFacts(visitBundle({ extraNote: 'Denies chest pain. Passive suicidal ideation discussed.' }));
    assert.deepEqual(
      findRedFlags(facts).map((h) => h.id),
      ['chest-pain', 'suicide'],
    );
    assert.deepEqual(findRedFlags(extractFacts(visitBundle({ extraNote: 'Painful chest wall after a fall.' })).facts), []);
  });

  test('emergency advice leads whenToSeekCare, names each sign, cites it, and is applied once', () => {
    const visit = extractFacts(visitBundle({ extraNote: 'Suicidal thoughts last month.' }));
    const hits = findRedFlags(visit.facts);
    const base = fallbackOutput(visit, []);
    const once = enforceSeekCare(base, hits);
    assert.match(once.whenToSeekCare.text, /^Call 911 or go to the nearest emergency room right away if you have thoughts of suicide/);
    assert.match(once.whenToSeekCare.text, /988/);
    assert.deepEqual(enforceSeekCare(once, hits), once);
    assert.deepEqual(once.whenToSeekCare.sources, [hits[0]!.refs[0]!]);
  });

  test('a model reply is refused for a schema mismatch, an unknown reference or markup', () => {
    const visit = extractFacts(visitBundle());
    const out = fallbackOutput(visit, []);
    assert.equal(checkModelOutput(out, visit).ok, true);
    const unknown = checkModelOutput({ ...out, diagnoses: [{ text: 'x', sources: ['Condition/42'] }] }, visit);
    assert.ok(!unknown.ok && unknown.kind === 'unknown-reference' && unknown.problem.includes('Condition/42'));
    const uncited = checkModelOutput({ ...out, diagnoses: [{ text: 'x', sources: [] }] }, visit);
    assert.ok(!uncited.ok && uncited.kind === 'invalid-output', 'a diagnosis must cite the record');
    const extra = checkModelOutput({ ...out, dose: 'double it' }, visit);
    assert.ok(!extra.ok && extra.kind === 'invalid-output');
    const html = checkModelOutput({ ...out, educational: [{ text: '<script>x</script>', sources: [out.diagnoses[0]!.sources[0]!] }] }, visit);
    assert.ok(!html.ok && html.kind === 'invalid-output');
  });
});
