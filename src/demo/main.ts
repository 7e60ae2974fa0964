import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { startDemo, type Demo } from './demo.js';
import { NotLoopbackError, loopbackListenHost } from './loopback.js';
import { walk } from './walk.js';

/**
 * `npm run demo [-- --walk] [-- --keep]`: the gateway with a demo identity provider, wallet, SHC
 * issuer, kiosk/EHR/network clients and a network subscriber, all in this process on loopback.
 * Never imported by src/main.ts.
 */

const USAGE = 'usage: npm run demo [-- --walk] [-- --keep]';

function urls(demo: Demo): string {
  const b = demo.baseUrl;
  return [
    `ktc-gateway demo on ${b}`,
    '',
    `  start here        ${b}/demo`,
    `  kiosk             ${b}/demo/kiosk        (shows the check-in QR, turns to "Checked in")`,
    `  patient wallet    ${b}/demo/wallet       (pick a patient, scan the kiosk's QR or show your own)`,
    `  kiosk scanner     ${b}/demo/scan         (the kiosk reads the wallet's QR)`,
    `  EHR               ${b}/demo/ehr          (posts the visit summary, shows the patient's viewer link and QR)`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { walk: { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  loopbackListenHost(config.publicBaseUrl);
  const dir = values.keep ? path.resolve('demo-data') : mkdtempSync(path.join(tmpdir(), 'ktc-demo-'));
  mkdirSync(dir, { recursive: true });
  const cleanup = () => {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  };

  let demo: Demo;
  try {
    demo = await startDemo({ config, dir });
  } catch (e) {
    cleanup();
    throw e;
  }
  const stop = async () => {
    await demo.close();
    cleanup();
  };
  process.stdout.write(`keys, trust file, synthetic patients and the gateway log: ${dir}${values.keep ? '' : ' (removed at exit; --keep keeps ./demo-data)'}\n`);

  if (values.walk) {
    const result = await walk(demo, (line) => process.stdout.write(`${line}\n`));
    await stop();
    return result.failed ? 1 : 0;
  }
  process.stdout.write(urls(demo));
  process.stdout.write('Ctrl-C stops everything.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stop();
  return 0;
}

// No process.exit on success: the process ends by itself only when nothing is left running.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const known = e instanceof ConfigError || e instanceof NotLoopbackError;
    const busy = (e as { code?: unknown })?.code === 'EADDRINUSE' ? ' (another port: PORT=8090 npm run demo, or PORT=0 for any free one)' : '';
    process.stderr.write(`ktc-gateway demo: ${known ? '' : 'failed: '}${(e as Error)?.message ?? String(e)}${busy}\n${known ? '' : `${USAGE}\n`}`);
    process.exitCode = e instanceof ConfigError ? 78 : 1;
  },
);
