import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Queryable } from '../../src/db/db.js';
import { notificationMetrics } from '../../src/notifications/metrics.js';
import { createMetrics, metricsOnce } from '../../src/ops/metrics.js';
import { shlMetrics } from '../../src/shl/metrics.js';
import { summaryMetrics } from '../../src/summaries/metrics.js';

const fakeDb = (): Queryable => ({
  query: async () => ({ rows: [], rowCount: 0 }),
  exec: async () => undefined,
});

test('each area registers its metrics once per registry and shares them', () => {
  const { registry } = createMetrics();
  assert.equal(shlMetrics(registry), shlMetrics(registry));
  assert.equal(summaryMetrics(registry), summaryMetrics(registry));
  const db = fakeDb();
  assert.equal(notificationMetrics(registry, db), notificationMetrics(registry, db));
  let made = 0;
  const make = () => ({ n: ++made });
  assert.equal(metricsOnce(registry, 'test', make), metricsOnce(registry, 'test', make));
  assert.equal(made, 1);
  assert.notEqual(shlMetrics(createMetrics().registry), shlMetrics(registry), 'another registry gets its own');
});

test("a registry reports one database's notifications: asking with another is refused, not answered from the first", () => {
  const { registry } = createMetrics();
  notificationMetrics(registry, fakeDb());
  assert.throws(() => notificationMetrics(registry, fakeDb()), /another database/);
});
