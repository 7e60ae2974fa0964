import express from 'express';
import { SHLViewer } from 'kill-the-clipboard';
import { systemClock } from '../src/clock.js';
import { createGuardedFetch } from '../src/net/guarded-fetch.js';
import { parseShlink } from '../src/shl/link.js';
import { retrieveShl } from '../src/shl/receiver.js';
import { startShlWalletHost } from '../test/helpers/shl-wallet-host.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openPglite } from '../src/db/pglite.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/ops/metrics.js';
import { createServices } from '../src/services.js';
import { FHIR_TYPE } from '../src/shl/receiver.js';
import { load, type LoadSpec } from './lib/load.js';
import { serve } from './lib/servers.js';
import { bestOfAlternating } from './lib/rounds.js';
import type { Bench, BenchRow } from './types.js';

const CONNECTIONS = 10;
const DURATION_SEC = 5;

/** A visit-summary-sized document Bundle (about 12 KB of JSON). */
function visitBundle(): string {
  const entry = Array.from({ length: 40 }, (_, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resource: { resourceType: 'Observation', status: 'final', code: { text: `Measurement ${i}` }, valueString: 'Within normal limits for age.' },
  }));
  return JSON.stringify({ resourceType: 'Bundle', type: 'document', entry });
}

const RECEIVE_ROUNDS = 3;
const RECEIVE_ITERATIONS = 150;

/**
 * The receiving side against kill-the-clipboard's SHLViewer on the same link, served by a wallet
 * host on loopback: manifest POST, file GET (a location), decrypt, parse. Alternating rounds,
 * best of each.
 */
async function receiverRow(): Promise<BenchRow> {
  const wallet = await startShlWalletHost();
  try {
    const shlink = await wallet.createLink({ files: [{ contentType: FHIR_TYPE, content: visitBundle(), zip: true }] });
    const fetch = createGuardedFetch({ allowlist: ['127.0.0.1'] });
    const ours = async () => {
      const r = await retrieveShl(parseShlink(shlink, { allowlist: ['127.0.0.1'] }), { recipient: 'bench' }, { fetch, clock: systemClock });
      if (r.files.length !== 1) throw new Error('ours: no file');
    };
    const theirs = async () => {
      const r = await new SHLViewer({ shlinkURI: shlink }).resolveSHL({ recipient: 'bench' });
      if (r.fhirResources.length !== 1) throw new Error('SHLViewer: no file');
    };
    const r = await bestOfAlternating(ours, theirs, { rounds: RECEIVE_ROUNDS, iterations: RECEIVE_ITERATIONS, warmup: 1 });
    return {
      name: 'SHL receive (manifest + file + decrypt) vs kill-the-clipboard SHLViewer.resolveSHL (same link)',
      ...r,
      unit: 'links/s',
      higherIsBetter: true,
      goal: '>= 1',
      note: `${RECEIVE_ROUNDS} alternating rounds of ${RECEIVE_ITERATIONS}, sequential, best of each; ours through the SSRF-guarded fetch`,
    };
  } finally {
    await wallet.close();
  }
}

/**
 * SHL host throughput through the whole gateway (express, PGlite, audit, metrics) over loopback,
 * against an express floor answering the same bytes from memory: manifest POST (embedded, and with
 * a location ticket written) and the encrypted-file GET (U-flag route; location tickets are single-use).
 */
export const bench: Bench = {
  name: 'shl',
  async run(): Promise<BenchRow[]> {
    const config = loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' });
    const services = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent'), metrics: createMetrics() });
    const owner = { organization: 'Bench Clinic', clientId: 'bench-ehr' };
    const expiresAt = new Date(Date.now() + 86_400_000);
    const files = [{ contentType: FHIR_TYPE, content: visitBundle() }];
    const link = await services.shl.create({ files, expiresAt, owner });
    const single = await services.shl.create({ files, expiresAt, owner, singleFile: true });
    const embedded = await services.shl.manifest(link.id, { recipient: 'bench', embeddedLengthMax: 1_000_000 });
    if (embedded.kind !== 'ok' || !embedded.files[0]?.embedded) throw new Error('bench link did not embed');
    const manifestBytes = JSON.stringify({ files: embedded.files });
    const jwe = embedded.files[0].embedded;

    const floorApp = express();
    floorApp.use(express.json());
    floorApp.post('/m', (_req, res) => {
      res.type('application/json').send(manifestBytes);
    });
    floorApp.get('/f', (_req, res) => {
      res.type('application/jose').send(jwe);
    });
    const floor = await serve(floorApp);
    const gw = await serve(buildApp(services));
    const post = (url: string, body: object): LoadSpec => ({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      connections: CONNECTIONS,
      durationSec: DURATION_SEC,
    });
    const get = (url: string): LoadSpec => ({ url, connections: CONNECTIONS, durationSec: DURATION_SEC });

    const rows: BenchRow[] = [];
    const row = async (name: string, ours: LoadSpec, floorSpec: LoadSpec, goal: string) => {
      // Warm-up (JIT, PGlite caches) so neither side pays it inside the measured run.
      await load({ ...floorSpec, durationSec: 1 });
      await load({ ...ours, durationSec: 1 });
      const f = await load(floorSpec);
      const o = await load(ours);
      const failures = o.non2xx + o.errors;
      rows.push({
        name,
        value: Math.round(o.rps),
        floor: Math.round(f.rps),
        unit: 'req/s',
        higherIsBetter: true,
        goal,
        note: `p99 ${o.p99} ms vs ${f.p99} ms; ${CONNECTIONS} connections, ${DURATION_SEC}s, PGlite${failures ? `; ${failures} failed` : ''}`,
      });
    };
    try {
      const manifestUrl = `${gw.url}/shl/${link.id}`;
      await row(
        'SHL manifest POST, embedded (read + audit write)',
        post(manifestUrl, { recipient: 'bench', embeddedLengthMax: 1_000_000 }),
        post(`${floor.url}/m`, { recipient: 'bench' }),
        '>= 0.1',
      );
      await row('SHL manifest POST, location (+ ticket write)', post(manifestUrl, { recipient: 'bench' }), post(`${floor.url}/m`, { recipient: 'bench' }), '>= 0.1');
      await row('SHL file GET (U-flag, read + audit write)', get(`${gw.url}/shl/${single.id}?recipient=bench`), get(`${floor.url}/f`), '>= 0.1');
      rows.push(await receiverRow());
    } finally {
      await gw.close();
      await floor.close();
      await services.db.close();
      await services.cpu.close();
    }
    return rows;
  },
};
