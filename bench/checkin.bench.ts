import { buildApp } from '../src/app.js';
import { completeCheckin } from '../src/checkin/checkin-service.js';
import { createPayloadResolver } from '../src/checkin/resolve.js';
import { loadConfig, trustFileSchema } from '../src/config.js';
import { openPglite } from '../src/db/pglite.js';
import { accessTokens } from '../src/identity/access-token.js';
import { createLogger } from '../src/log.js';
import { createServices } from '../src/services.js';
import { createShcVerifier } from '../src/shc/verify.js';
import { shlMetrics } from '../src/shl/metrics.js';
import { SHC_VECTORS, readVector, shcExampleIssuer } from '../test/helpers/fixtures.js';
import { patientClaims, startIdp } from '../test/helpers/idp.js';
import { load } from './lib/load.js';
import { serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const FLOOR_OPS = 300;

/**
 * SHC check-in end to end (HTTP, identity token, verify, inflate, validate, store) against the same
 * work called in-process with no HTTP in the way.
 */
export const bench: Bench = {
  name: 'checkin',
  async run(): Promise<BenchRow[]> {
    const idp = await startIdp();
    const qr = readVector(SHC_VECTORS, 'example-00-f-qr-code-numeric-value-0.txt').trim();
    const trust = trustFileSchema.parse({
      identityProviders: [idp.providerConfig()],
      shcIssuers: [shcExampleIssuer()],
      outboundAllowlist: ['127.0.0.1'],
    });
    const config = { ...loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' }), trust };
    const s = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent') });
    const gw = await serve(buildApp(s));
    const identityToken = await idp.token({ sub: 'bench-patient', ...patientClaims() }, { expiresIn: 3600 });
    const client = { clientId: 'kiosk', organization: 'Clinic A', scopes: ['system/checkin.write'] };
    const kioskToken = (await accessTokens(s.keys, config.publicBaseUrl, s.clock).issue(client)).token;
    try {
      const resolve = createPayloadResolver({
        shc: createShcVerifier({ trust, fetch: s.fetch, clock: s.clock }),
        cpu: s.cpu,
        maxPlaintextBytes: config.limits.maxInflatedBytes,
        fetch: s.fetch,
        clock: s.clock,
        allowlist: trust.outboundAllowlist,
        metrics: shlMetrics(s.metrics.registry),
      });
      const deps = { db: s.db, cpu: s.cpu, limits: config.limits, audit: s.audit, clock: s.clock, publicBaseUrl: config.publicBaseUrl, onEncounterStart: async () => undefined };
      const once = async () => {
        const identity = await s.auth.patient(identityToken);
        const content = await resolve({ kind: 'shc', shc: [qr] }, { organization: client.organization });
        await completeCheckin(deps, { identity, content, organization: client.organization, clientId: client.clientId, audit: { actor: { kind: 'client', id: 'kiosk' } } });
      };
      await once();
      const started = performance.now();
      for (let i = 0; i < FLOOR_OPS; i++) await once();
      const floorOps = FLOOR_OPS / ((performance.now() - started) / 1000);

      const body = JSON.stringify({ identityToken, shc: [qr] });
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${kioskToken}` };
      const sequential = await load({ url: `${gw.url}/checkin`, method: 'POST', headers, body, connections: 1, durationSec: 5 });
      const loaded = await load({ url: `${gw.url}/checkin`, method: 'POST', headers, body, connections: 100, durationSec: 10 });
      if (loaded.non2xx || sequential.non2xx) throw new Error(`check-in answered non-2xx (${loaded.non2xx + sequential.non2xx})`);
      return [
        { name: 'SHC check-in, HTTP end to end (1 connection) vs in-process', value: sequential.rps, floor: floorOps, unit: 'check-ins/s', higherIsBetter: true, goal: '>= 0.5', note: `p50 ${sequential.p50} ms, p99 ${sequential.p99} ms` },
        { name: 'SHC check-in at 100 concurrent vs in-process', value: loaded.rps, floor: floorOps, unit: 'check-ins/s', higherIsBetter: true, goal: '>= 0.5; p99 <= 50 ms', note: `p50 ${loaded.p50} ms, p99 ${loaded.p99} ms (embedded PGlite: one connection)` },
      ];
    } finally {
      await gw.close();
      await idp.close();
      await s.db.close();
    }
  },
};
