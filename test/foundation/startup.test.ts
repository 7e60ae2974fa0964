import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { TEST_DATABASE_URL, createPostgresDatabase } from '../helpers/db.js';
import { runChildGatewayToExit, startChildGateway } from '../helpers/child-gateway.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ktc-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('process start-up', () => {
  test('starts on embedded PGlite, serves /ready, and drains on SIGTERM', async () => {
    const gw = await startChildGateway({ DATA_DIR: path.join(dir, 'data') });
    const ready = await fetch(`${gw.baseUrl}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { database: string }).database, 'pglite');
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.match(gw.output(), /"stopped"/);
  });

  test('starts on real PostgreSQL from DATABASE_URL', { skip: TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set' }, async () => {
    const { url, drop } = await createPostgresDatabase(TEST_DATABASE_URL!);
    try {
      const gw = await startChildGateway({ DATABASE_URL: url });
      const ready = await fetch(`${gw.baseUrl}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { database: string }).database, 'postgres');
      assert.equal(await gw.stop(), 0);
    } finally {
      await drop();
    }
  });

  const badConfigs: [string, unknown, RegExp][] = [
    ['a missing field', { identityProviders: [{ issuer: 'https://idp.example', assurance: { ial2: {}, aal2: {} } }] }, /identityProviders\.0\.audience/],
    ['a wrong type', { clients: [{ clientId: 'k', organization: 'A', jwks: { keys: [] }, scopes: 'system/checkin.write' }] }, /clients\.0\.scopes/],
    ['an unknown field', { outboundAllowList: [] }, /outboundAllowList|Unrecognized/],
  ];
  for (const [what, content, field] of badConfigs) {
    test(`a CONFIG_FILE with ${what} stops the process naming the field`, async () => {
      const file = path.join(dir, `bad-${what.replace(/\W/g, '')}.json`);
      writeFileSync(file, JSON.stringify(content));
      const { code, stderr } = await runChildGatewayToExit({ CONFIG_FILE: file, DATA_DIR: 'memory:' });
      assert.equal(code, 78, 'EX_CONFIG');
      assert.match(stderr, field);
    });
  }

  test('a CONFIG_FILE that is not JSON stops the process', async () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    const { code, stderr } = await runChildGatewayToExit({ CONFIG_FILE: file, DATA_DIR: 'memory:' });
    assert.equal(code, 78, 'EX_CONFIG');
    assert.match(stderr, /not valid JSON/);
  });
});
