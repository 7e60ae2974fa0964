import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ConfigError, parseTrustFile } from '../../src/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const client = (clientId: string, organization: string) => ({ clientId, organization, jwksUri: 'https://keys.example/jwks', scopes: [] });
const trust = (dataSharing: unknown[]) => JSON.stringify({ clients: [client('ehr-a', 'Clinic A'), client('hie', 'HIE')], dataSharing });

describe('dataSharing in CONFIG_FILE', () => {
  test('agreements between registered organizations, for agreement purposes, are accepted', () => {
    const t = parseTrustFile(trust([{ from: 'Clinic A', to: 'HIE', purposes: ['TREAT', 'PUBHLTH'] }]), 'trust.json');
    assert.deepEqual(t.dataSharing, [{ from: 'Clinic A', to: 'HIE', purposes: ['TREAT', 'PUBHLTH'] }]);
    assert.deepEqual(parseTrustFile('{}', 'trust.json').dataSharing, []);
  });

  test('an unknown organization, an unknown or patient-only purpose, or an agreement with oneself is a configuration error naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ from: 'Clinic Z', to: 'HIE', purposes: ['TREAT'] }, /dataSharing\.0\.from: "Clinic Z" is not the organization of any registered client/],
      [{ from: 'Clinic A', to: 'Nobody', purposes: ['TREAT'] }, /dataSharing\.0\.to/],
      [{ from: 'Clinic A', to: 'HIE', purposes: ['MARKETING'] }, /dataSharing\.0\.purposes\.0/],
      [{ from: 'Clinic A', to: 'HIE', purposes: ['PATRQT'] }, /dataSharing\.0\.purposes\.0/],
      [{ from: 'Clinic A', to: 'HIE', purposes: [] }, /dataSharing\.0\.purposes/],
      [{ from: 'Clinic A', to: 'Clinic A', purposes: ['TREAT'] }, /dataSharing\.0\.to: an organization needs no agreement with itself/],
      [{ from: 'Clinic A', to: 'HIE', purposes: ['TREAT'], extra: true }, /dataSharing\.0/],
    ];
    for (const [agreement, message] of cases) {
      assert.throws(
        () => parseTrustFile(trust([agreement]), 'trust.json'),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(agreement),
      );
    }
  });

  test('the process refuses to start (exit 78, EX_CONFIG) on an agreement naming an unknown organization', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ktc-sharing-'));
    try {
      const file = path.join(dir, 'trust.json');
      writeFileSync(file, trust([{ from: 'Clinic A', to: 'Unknown Network', purposes: ['TREAT'] }]));
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: 'memory:', CONFIG_FILE: file },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /dataSharing\.0\.to: "Unknown Network" is not the organization of any registered client/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
