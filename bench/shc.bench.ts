import { createPublicKey, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import { SHCReader } from 'kill-the-clipboard';
import { ManualClock } from '../src/clock.js';
import type { GuardedFetch } from '../src/net/types.js';
import { createShcVerifier, type ShcVerifier } from '../src/shc/verify.js';
import { SHC_EXAMPLE_TIME, SHC_VECTORS, readVector } from '../test/helpers/fixtures.js';
import { cardPayload, issuerKey, signCard } from '../test/shc/card-issuer.js';
import { serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ITERATIONS = 2_000;
const ROUNDS = 3;
const EXAMPLE_ISS = 'https://spec.smarthealth.cards/examples/issuer';

const noNetwork: GuardedFetch = async (url) => {
  throw new Error(`the bench must not fetch ${url}`);
};

async function opsPerSecond(iterations: number, op: () => unknown): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op();
  return iterations / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Alternating rounds after a warm-up; the best round of each counts. */
async function compare(ours: () => unknown, floor: () => unknown): Promise<{ value: number; floor: number }> {
  for (let i = 0; i < 200; i++) {
    await ours();
    await floor();
  }
  let best = 0;
  let bestFloor = 0;
  for (let r = 0; r < ROUNDS; r++) {
    bestFloor = Math.max(bestFloor, await opsPerSecond(ITERATIONS, floor));
    best = Math.max(best, await opsPerSecond(ITERATIONS, ours));
  }
  return { value: Math.round(best), floor: Math.round(bestFloor) };
}

/** The floor: the two unavoidable costs of a card, an ES256 verify over header.payload and the raw inflate. */
function bareVerifier(jws: string, jwk: JWK): () => void {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  const input = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const payload = Buffer.from(p, 'base64url');
  return () => {
    if (!cryptoVerify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('floor: bad signature');
    inflateRawSync(payload);
  };
}

function sdkLocation(): string | undefined {
  return [path.resolve(ROOT, '../health-cards-validation-SDK'), path.join(ROOT, 'node_modules/health-cards-validation-SDK')].find((d) => existsSync(path.join(d, 'package.json')));
}

interface SdkApi {
  validate: { jws(text: string): Promise<{ level: number }[]>; keyset(text: string): Promise<unknown> };
}

/**
 * Ours against the reference validator on one card. The card comes from an issuer on 127.0.0.1
 * without crlVersion, and its key set is loaded into the SDK first, so nothing the SDK might
 * fetch on its own (issuer keys, revocation lists) leaves loopback.
 */
async function sdkRow(): Promise<BenchRow> {
  const name = 'SHC verify vs health-cards-validation-SDK validate.jws (same card)';
  const skipped = (note: string): BenchRow => ({ name, value: 0, floor: 0, unit: 'verifications/s', higherIsBetter: true, note });
  const dir = sdkLocation();
  if (!dir) return skipped('skipped: health-cards-validation-SDK is not installed at ../health-cards-validation-SDK or node_modules (not installed on purpose)');
  const main = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { main?: string }).main ?? 'index.js';
  let sdk: SdkApi;
  try {
    sdk = createRequire(path.join(dir, 'package.json'))(path.join(dir, main)) as SdkApi;
    if (typeof sdk.validate?.jws !== 'function') throw new Error('no validate.jws export');
  } catch (e) {
    return skipped(`skipped: the SDK at ${path.relative(ROOT, dir)} did not load (${(e as Error).message})`);
  }
  const key = await issuerKey();
  const jwks = { keys: [key.publicJwk] };
  const host = await serve((req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  try {
    const now = Date.now();
    const jws = await signCard(key, cardPayload(host.url, Math.floor(now / 1000) - 60, {}, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: exampleBundle() } }));
    await sdk.validate.keyset(JSON.stringify(jwks));
    const ours = createShcVerifier({ trust: { shcIssuers: [{ iss: host.url, jwks }], acceptUnknownShcIssuers: false }, fetch: noNetwork, clock: new ManualClock(now) });
    const reported = (await sdk.validate.jws(jws)).length;
    const r = await compare(
      () => ours.verify(jws),
      () => sdk.validate.jws(jws),
    );
    return {
      name,
      ...r,
      unit: 'verifications/s',
      higherIsBetter: true,
      goal: '>= 10',
      note: `floor is the SDK; it reported ${reported} issue(s) at warning level or above on the card`,
    };
  } finally {
    await host.close();
  }
}

const verdict = async (f: () => Promise<unknown>): Promise<'accept' | 'reject'> => {
  try {
    await f();
    return 'accept';
  } catch {
    return 'reject';
  }
};

/**
 * Ours against kill-the-clipboard's SHCReader (what a TypeScript integrator would otherwise pick),
 * on the same cards: both must agree on valid, tampered, expired and unknown-issuer cards before
 * the speed of the valid one counts. SHCReader is given the issuer's key directly (no directory).
 */
async function killTheClipboardRow(): Promise<BenchRow> {
  const name = 'SHC verify per card vs kill-the-clipboard SHCReader.fromJWS (same card)';
  const iss = 'https://issuer.bench.test';
  const key = await issuerKey();
  const stranger = await issuerKey();
  const now = Date.now();
  const nbf = Math.floor(now / 1000) - 60;
  const bundle = exampleBundle();
  const valid = await signCard(key, cardPayload(iss, nbf, {}, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: bundle } }));
  const [h, , sig] = valid.split('.');
  const other = await signCard(key, cardPayload(iss, nbf, {}, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: { ...bundle, id: 'x' } } }));
  const cards = {
    valid,
    tampered: `${h}.${other.split('.')[1]}.${sig}`,
    expired: await signCard(key, cardPayload(iss, nbf - 7200, { exp: nbf - 3600 }, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: bundle } })),
    'unknown-issuer': await signCard(stranger, cardPayload(iss, nbf, {}, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle: bundle } })),
  };
  const ours = createShcVerifier({
    trust: { shcIssuers: [{ iss, jwks: { keys: [key.publicJwk as Record<string, unknown>] } }], acceptUnknownShcIssuers: false },
    fetch: noNetwork,
    clock: new ManualClock(now),
  });
  const reader = new SHCReader({ publicKey: key.publicJwk as JsonWebKey, verifyExpiration: true, useVciDirectory: false });
  const verdicts: string[] = [];
  for (const [kind, jws] of Object.entries(cards)) {
    const a = await verdict(() => ours.verify(jws));
    const b = await verdict(() => reader.fromJWS(jws));
    verdicts.push(`${kind}: ${a}${a === b ? '' : ` vs ${b} (DIFFERENT)`}`);
  }
  const r = await compare(
    () => ours.verify(valid),
    () => reader.fromJWS(valid),
  );
  return { name, ...r, unit: 'verifications/s', higherIsBetter: true, goal: '>= 5', note: `floor is SHCReader; verdicts ${verdicts.join(', ')}` };
}

function exampleBundle(): Bundle {
  return JSON.parse(readVector(SHC_VECTORS, 'example-00-a-fhirBundle.json')) as Bundle;
}

/**
 * SMART Health Card verification in process (spec example 00, inline JWKS: header, capped raw
 * inflate, claims, key rules, jose ES256) against the floor of a bare crypto.verify plus
 * inflateRawSync of the same card; and against the reference validator when it is installed.
 */
export const bench: Bench = {
  name: 'shc',
  async run(): Promise<BenchRow[]> {
    const jws = readVector(SHC_VECTORS, 'example-00-d-jws.txt').trim();
    const jwks = JSON.parse(readVector(SHC_VECTORS, 'issuer.jwks.public.json')) as { keys: JWK[] };
    const verifier: ShcVerifier = createShcVerifier({
      trust: { shcIssuers: [{ iss: EXAMPLE_ISS, jwks: jwks as { keys: Record<string, unknown>[] } }], acceptUnknownShcIssuers: false },
      fetch: noNetwork,
      clock: new ManualClock(SHC_EXAMPLE_TIME),
    });
    const kid = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
    const r = await compare(() => verifier.verify(jws), bareVerifier(jws, jwks.keys.find((k) => k.kid === kid)!));
    return [
      {
        name: 'SHC verify per card (example 00) vs bare crypto.verify + inflateRawSync',
        ...r,
        unit: 'verifications/s',
        higherIsBetter: true,
        goal: '>= 0.5',
        note: `${ROUNDS} alternating rounds of ${ITERATIONS}, best of each; ours also parses and checks the payload`,
      },
      await killTheClipboardRow(),
      await sdkRow(),
    ];
  },
};
