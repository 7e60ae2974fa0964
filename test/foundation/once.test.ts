import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from '../../src/once.js';

test('once(): made at the first call only, the same value for every caller, a rejection kept', async () => {
  let made = 0;
  const value = once(() => ({ n: ++made }));
  assert.equal(made, 0, 'nothing is made before the first call');
  assert.equal(value(), value());
  assert.equal(made, 1);

  let loads = 0;
  const failing = once(() => {
    loads += 1;
    return Promise.reject(new Error('cannot load'));
  });
  const [a, b] = [failing(), failing()];
  assert.equal(a, b, 'concurrent first callers share one load');
  await assert.rejects(a, /cannot load/);
  await assert.rejects(failing(), /cannot load/);
  assert.equal(loads, 1);
});
