/**
 * Runs check-ins over loopback HTTP in one process for `node --cpu-prof` (bench/README.md, "Where a
 * check-in's time goes"): `node --cpu-prof --cpu-prof-dir=.prof --import tsx bench/profile-checkin.ts shc 300`,
 * `history 100` (Patient + 49 US Core Conditions) or `ips 100` (a published 66-resource IPS document). CPU_THREADS defaults to 0 here so validation shows in the same profile.
 */
import path from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { buildApp } from '../src/app.js';
import { loadConfig, trustFileSchema } from '../src/config.js';
import { openPglite } from '../src/db/pglite.js';
import { accessTokens } from '../src/identity/access-token.js';
import { createLogger } from '../src/log.js';
import { createServices } from '../src/services.js';
import { checkinWith, validCondition } from '../test/attacks/stall-payloads.js';
import { SHC_VECTORS, VECTORS, readVector, shcExampleIssuer } from '../test/helpers/fixtures.js';
import { patientClaims, startIdp } from '../test/helpers/idp.js';
import { serve } from './lib/servers.js';

const [kind = 'shc', countArg = '300'] = process.argv.slice(2);
if (kind !== 'shc' && kind !== 'history' && kind !== 'ips') throw new Error('usage: profile-checkin.ts shc|history|ips [count]');
const count = Number(countArg);

const idp = await startIdp();
const trust = trustFileSchema.parse({ identityProviders: [idp.providerConfig()], shcIssuers: [shcExampleIssuer()], outboundAllowlist: ['127.0.0.1'] });
const config = { ...loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off', CPU_THREADS: process.env.CPU_THREADS ?? '0' }), trust };
const services = await createServices(config, { db: await openPglite('memory:'), log: createLogger('silent') });
const gw = await serve(buildApp(services));
await services.cpu.warm();
const kioskToken = (
  await accessTokens(services.keys, config.publicBaseUrl, services.clock).issue({ clientId: 'kiosk', organization: 'Clinic A', scopes: ['system/checkin.write'] })
).token;
// ips: a published IPS document (AU PS referral, 66 resources), for the patient it names.
const ips = JSON.parse(readVector(path.join(VECTORS, 'corpus', 'au-ps'), 'Bundle-aups-referral-endoconsult-autogen.json')) as Bundle;
const claims = kind === 'ips' ? patientClaims({ given: 'Joyce', family: 'JOHNSON', birthDate: '1985-02-06' }) : patientClaims();
const identityToken = await idp.token({ sub: 'profile-patient', ...claims }, { expiresIn: 3600 });
const content = {
  shc: { shc: [readVector(SHC_VECTORS, 'example-00-f-qr-code-numeric-value-0.txt').trim()] },
  history: { bundle: checkinWith(49, validCondition) },
  ips: { bundle: ips },
}[kind];
const body = JSON.stringify({ identityToken, ...content });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${kioskToken}` };

const checkin = async () => {
  const r = await fetch(`${gw.url}/checkin`, { method: 'POST', headers, body });
  await r.arrayBuffer();
  if (r.status !== 201) throw new Error(`check-in answered ${r.status}`);
};
for (let i = 0; i < 20; i++) await checkin();
const started = performance.now();
for (let i = 0; i < count; i++) await checkin();
const ms = (performance.now() - started) / count;
process.stdout.write(`${kind}: ${count} check-ins, ${ms.toFixed(1)} ms each (sequential, wall)\n`);
await gw.close();
await services.cpu.close();
await services.db.close();
await idp.close();
