import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Encounter } from '@medplum/fhirtypes';
import { parseRetryAfter, retryDelayMs } from '../../src/notifications/delivery.js';
import { FilterError, matchesFilters, parseFilterCriteria } from '../../src/notifications/filters.js';
import { topicByUrl, topicsFiredBy } from '../../src/notifications/topics.js';

const start = topicByUrl('http://hl7.org/fhir/us/medmorph/SubscriptionTopic/encounter-start')!;
const enc = (status: Encounter['status'], extra: Partial<Encounter> = {}): Encounter & { id: string } => ({
  resourceType: 'Encounter',
  id: 'e1',
  status,
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  subject: { reference: 'Patient/123' },
  ...extra,
});

describe('topic triggers', () => {
  test('encounter start fires when an encounter enters arrived/in-progress, end when it enters finished', () => {
    const ids = (prev: Encounter | undefined, cur: Encounter) => topicsFiredBy(prev, cur).map((t) => t.id);
    assert.deepEqual(ids(undefined, enc('arrived')), ['encounter-start']);
    assert.deepEqual(ids(undefined, enc('planned')), []);
    assert.deepEqual(ids(enc('planned'), enc('in-progress')), ['encounter-start']);
    assert.deepEqual(ids(enc('arrived'), enc('in-progress')), [], 'already started');
    assert.deepEqual(ids(enc('triaged'), enc('in-progress')), [], 'triage is part of the same start');
    assert.deepEqual(ids(enc('onleave'), enc('in-progress')), [], 'back from leave');
    assert.deepEqual(ids(enc('finished'), enc('in-progress')), ['encounter-start'], 're-opened');
    assert.deepEqual(ids(enc('in-progress'), enc('finished')), ['encounter-end']);
    assert.deepEqual(ids(undefined, enc('finished')), ['encounter-end']);
    assert.deepEqual(ids(enc('finished'), enc('finished')), []);
  });
});

describe('filter criteria', () => {
  const parse = (s: string) => parseFilterCriteria(s, 'Encounter', start.canFilterBy);
  test('parses the IG forms and ANDs terms', () => {
    assert.deepEqual(parse('Encounter?patient=Patient/123'), [{ name: 'patient', values: ['Patient/123'] }]);
    assert.deepEqual(parse('patient=123&status=arrived,in-progress'), [
      { name: 'patient', values: ['123'] },
      { name: 'status', values: ['arrived', 'in-progress'] },
    ]);
  });
  test('refuses what it cannot evaluate', () => {
    for (const bad of ['Observation?code=1', 'patient', 'patient:missing=true', 'subject.name=x', 'patient=Group/1', 'ward=3', 'patient=', 'status=a|b|c', 'patient=%E0%A4%A']) {
      assert.throws(() => parse(bad), FilterError, bad);
    }
  });
  test('matches references in any form and tokens with or without system', () => {
    const m = (f: string, e: Encounter) => matchesFilters(e, parse(f), start.canFilterBy);
    assert.ok(m('patient=Patient/123', enc('arrived')));
    assert.ok(m('patient=123', enc('arrived', { subject: { reference: 'https://ehr.example/fhir/Patient/123/_history/2' } })));
    assert.ok(!m('patient=Patient/124', enc('arrived')));
    assert.ok(!m('patient=123', enc('arrived', { subject: { reference: 'Group/123' } })), 'patient means a Patient subject');
    assert.ok(m('service-provider=Organization/east', enc('arrived', { serviceProvider: { reference: 'Organization/east' } })));
    assert.ok(!m('service-provider=Organization/east', enc('arrived', { serviceProvider: { display: 'East' } })));
    assert.ok(m('class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB', enc('arrived')));
    assert.ok(!m('class=http://other|AMB', enc('arrived')));
    assert.ok(m('status=finished,arrived', enc('arrived')));
  });
});

describe('retry timing', () => {
  test('exponential backoff with jitter in the upper half, capped', () => {
    assert.equal(
      retryDelayMs(1, undefined, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, undefined, () => 1),
      1000,
    );
    assert.equal(
      retryDelayMs(4, undefined, () => 1),
      8000,
    );
    assert.equal(
      retryDelayMs(40, undefined, () => 1),
      600_000,
    );
    assert.equal(retryDelayMs(3, 42_000), 42_000, 'Retry-After wins');
  });
  test('Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-03-02T09:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Mon, 02 Mar 2026 09:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 02 Mar 2026 08:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('999999', now), 3_600_000, 'capped at an hour');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
