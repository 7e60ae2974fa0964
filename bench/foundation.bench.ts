import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openPglite } from '../src/db/pglite.js';
import { createLogger } from '../src/log.js';
import { createServices } from '../src/services.js';
import { accessTokens } from '../src/identity/access-token.js';
import { createPostgresDatabase, TEST_DATABASE_URL } from '../test/helpers/db.js';
import { load } from './lib/load.js';
import { helloWorld, serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What `npm start` runs after its `prestart` build: the environment assignments and node arguments
 * of the `start` script, so the bench measures exactly that process.
 */
function startCommand(): { env: Record<string, string>; args: string[] } {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = scripts.start!.split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0]?.includes('=')) {
    const [k, v] = words.shift()!.split('=') as [string, string];
    env[k] = v;
  }
  if (words.shift() !== 'node') throw new Error(`unexpected start script: ${scripts.start}`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  if (build.status !== 0) throw new Error('npm run build failed');
  return { env, args: words };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Starts a node process, waits until `readyUrl(port)` answers 200; returns ms to ready and RSS after idling. */
async function coldStart(args: string[], env: Record<string, string>, readyPath: string): Promise<{ ms: number; rssKiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /"port":(\d+)/.exec(out) ?? /listening on (\d+)/.exec(out);
        if (m) {
          clearInterval(t);
          resolve(Number(m[1]));
        }
      }, 5);
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    for (;;) {
      const r = await fetch(`http://127.0.0.1:${port}${readyPath}`).catch(() => undefined);
      if (r?.status === 200) break;
      await new Promise((r2) => setTimeout(r2, 5));
    }
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 2000));
    return { ms, rssKiB: rssKiB(child.pid!) };
  } finally {
    child.kill('SIGKILL');
  }
}

/** Start and idle RSS with DATABASE_URL (a fresh database on TEST_DATABASE_URL's server). */
async function postgresStartRow(floor: { ms: number; rssKiB: number }, start: ReturnType<typeof startCommand>): Promise<BenchRow> {
  const name = 'idle RSS (DATABASE_URL)';
  if (!TEST_DATABASE_URL) return { name, value: 0, floor: 0, unit: 'MiB', higherIsBetter: false, note: 'skipped: TEST_DATABASE_URL is not set' };
  const db = await createPostgresDatabase(TEST_DATABASE_URL);
  try {
    const ours = await coldStart(start.args, { ...start.env, PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'info' }, '/ready');
    const met = ours.rssKiB <= 200 * 1024;
    return {
      name,
      value: ours.rssKiB / 1024,
      floor: floor.rssKiB / 1024,
      unit: 'MiB',
      higherIsBetter: false,
      goal: 'ours <= 200 MiB',
      note: `floor: express hello world process; first start to /ready ${Math.round(ours.ms)} ms; target ${met ? 'met' : 'NOT met'}`,
    };
  } finally {
    await db.drop();
  }
}

export const bench: Bench = {
  name: 'foundation',
  async run(): Promise<BenchRow[]> {
    const floor = await serve(helloWorld());
    const config = { ...loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' }) };
    const services = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent') });
    const gw = await serve(buildApp(services));
    // Validation threads started and warmed before measuring (a kiosk opening a session does the same).
    await services.cpu.warm();
    const rows: BenchRow[] = [];
    try {
      const f = await load({ url: `${floor.url}/`, connections: 20, durationSec: 5 });
      const h = await load({ url: `${gw.url}/health`, connections: 20, durationSec: 5 });
      rows.push({ name: 'GET /health', value: h.rps, floor: f.rps, unit: 'req/s', higherIsBetter: true, goal: '>= 0.5', note: `p99 ${h.p99} ms vs ${f.p99} ms` });
      // Validation-heavy: an EHR's Encounter is validated against R4 (structure, bindings, invariants), stored, and its events queued.
      const ehr = { clientId: 'ehr', organization: 'Clinic A', scopes: ['system/Encounter.write'] };
      const token = (await accessTokens(services.keys, config.publicBaseUrl, services.clock).issue(ehr)).token;
      const encounter = JSON.stringify({
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ coding: [{ system: 'http://snomed.info/sct', code: '185349003', display: 'Encounter for check up' }] }],
        subject: { reference: 'Patient/bench' },
        period: { start: '2026-11-23T09:00:00Z' },
        reasonCode: [{ text: 'Blood pressure check' }],
      });
      const v = await load({
        url: `${gw.url}/fhir/Encounter`,
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` },
        body: encounter,
        connections: 20,
        durationSec: 5,
      });
      if (v.non2xx) throw new Error(`POST /fhir/Encounter answered non-2xx ${v.non2xx} times`);
      rows.push({
        name: 'POST /fhir/Encounter (validate + store + outbox)',
        value: v.rps,
        floor: f.rps,
        unit: 'req/s',
        higherIsBetter: true,
        note: `p99 ${v.p99} ms vs ${f.p99} ms`,
      });
    } finally {
      await gw.close();
      await floor.close();
      await services.db.close();
      await services.cpu.close();
    }

    const dataDir = mkdtempSync(path.join(tmpdir(), 'ktc-bench-'));
    try {
      const floorStart = await coldStart(
        ['-e', "const e=require('express');const a=e();a.get('/',(q,r)=>r.json({ok:1}));const s=a.listen(0,'127.0.0.1',()=>console.log('listening on '+s.address().port))"],
        {},
        '/',
      );
      const start = startCommand();
      const ours = await coldStart(start.args, { ...start.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' }, '/ready');
      rows.push({
        name: 'cold start to /ready (PGlite, first start)',
        value: ours.ms,
        floor: floorStart.ms,
        unit: 'ms',
        higherIsBetter: false,
        goal: 'ours <= 2500 ms',
        note: `floor: express hello world to first 200; target ${ours.ms <= 2500 ? 'met' : 'NOT met'}`,
      });
      rows.push({
        name: 'idle RSS (PGlite)',
        value: ours.rssKiB / 1024,
        floor: floorStart.rssKiB / 1024,
        unit: 'MiB',
        higherIsBetter: false,
        goal: 'ours <= 300 MiB',
        note: `floor: express hello world process; 2 s after /ready; target ${ours.rssKiB <= 300 * 1024 ? 'met' : 'NOT met'}`,
      });
      rows.push(await postgresStartRow(floorStart, start));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    return rows;
  },
};
