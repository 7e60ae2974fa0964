import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { startDemo } from '../../src/demo/demo.js';
import { NotLoopbackError, loopbackListenHost } from '../../src/demo/loopback.js';
import { walk } from '../../src/demo/walk.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** After its last line the demo must end by itself (nothing left running) well within this. */
const EXIT_GRACE_MS = 30_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether the test had to kill it: something was left running. */
  killed: boolean;
}

/** `npm run demo -- <args>` as a child process; it gets no signal unless it overstays. */
function runDemo(args: string[], env: Record<string, string>, timeoutMs = 170_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(kill, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/demo walk: \d+\/\d+ steps ok/.test(stdout)) {
        clearTimeout(timer);
        timer = setTimeout(kill, EXIT_GRACE_MS);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

test('npm run demo -- --walk: every step ok, exit 0, nothing left running, temporary files removed', async () => {
  const run = await runDemo(['--walk'], {});
  assert.equal(run.killed, false, `the demo did not end by itself:\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const lines = run.stdout.split('\n');
  const steps = lines.filter((l) => /^(ok|FAIL) +\d+\/\d+ /.test(l));
  const summary = /^demo walk: (\d+)\/(\d+) steps ok$/m.exec(run.stdout);
  assert.ok(summary, run.stdout);
  const [ok, total] = [Number(summary[1]), Number(summary[2])];
  assert.ok(total >= 8 && ok === total, run.stdout);
  assert.equal(steps.length, total);
  assert.ok(
    steps.every((l) => l.startsWith('ok ')),
    run.stdout,
  );
  for (const name of [
    'identity token issued',
    'kiosk session opened',
    'wallet submitted SHL',
    'check-in stored with Provenance',
    "kiosk scanned wallet's SHC",
    'network notified',
    'network read the notified Encounter',
    'patient consent and disclosures',
    'visit summary posted',
    'SHL opened and decrypted',
    "health card verified against the gateway's JWKS",
    'plain-language summary',
  ]) {
    assert.ok(
      steps.some((l) => l.includes(` ${name}: `)),
      `no line for "${name}"`,
    );
  }
  assert.match(run.stdout, /plain-language summary: deterministic fallback \(no-api-key\)/);
  assert.match(run.stdout, /network notified: Demo HIE's Subscription .* with Encounter, Patient name and "Demo Clinic"/);
  assert.match(run.stdout, /SHL opened and decrypted: manifest with the visit document, the plain-language summary Composition and the signed card/);
  const dir = /gateway log: (\S+)/.exec(run.stdout)?.[1];
  assert.ok(dir && !existsSync(dir), 'the temporary directory is removed at exit');
});

test('the demo refuses a PUBLIC_BASE_URL that is not loopback, before opening a port', async () => {
  const run = await runDemo(['--walk'], { PUBLIC_BASE_URL: 'https://clinic.example' }, 60_000);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /not a loopback URL/);
  assert.doesNotMatch(run.stdout, /demo walk/);
});

test('loopback base URLs and the address each listens on', () => {
  assert.equal(loopbackListenHost('http://localhost:8080'), '127.0.0.1');
  assert.equal(loopbackListenHost('http://127.0.0.2:9000/'), '127.0.0.2');
  assert.equal(loopbackListenHost('http://[::1]:8080'), '::1');
  for (const url of ['http://10.0.0.5:8080', 'http://0.0.0.0:8080', 'https://gateway.example', 'http://localhost.example:8080', 'ftp://127.0.0.1', 'not a url']) {
    assert.throws(() => loopbackListenHost(url), NotLoopbackError, url);
  }
});

test('npm start never loads the demo: nothing outside src/demo imports it', () => {
  const src = path.join(ROOT, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith(`demo${path.sep}`));
  assert.ok(files.includes('main.ts'));
  const importers = files.filter((f) => /from\s+'(\.\.?\/)+demo\//.test(readFileSync(path.join(src, f), 'utf8')));
  assert.deepEqual(importers, []);
});

test('a failing step says why and the walk stops there', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ktc-demo-fail-'));
  const demo = await startDemo({ config: loadConfig({ PORT: '0', PUBLIC_BASE_URL: 'http://127.0.0.1:0' }), dir });
  try {
    demo.idp.setAvailable(false);
    const lines: string[] = [];
    const result = await walk(demo, (line) => lines.push(line));
    assert.deepEqual(result.failed, { step: 'identity token issued', why: "the identity provider's discovery document answered 503" });
    assert.equal(result.ok, 0);
    assert.deepEqual(lines, [`FAIL  1/${result.total} identity token issued: the identity provider's discovery document answered 503`, `demo walk: 0/${result.total} steps ok`]);
  } finally {
    await demo.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
