import { existsSync } from 'node:fs';
import { createPrivateKey, createPublicKey, verify as cryptoVerify, type JsonWebKey, webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { globalAgent as httpsGlobalAgent } from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import * as x509 from '@peculiar/x509';
import type { JWK } from 'jose';
import { SHCReader } from 'kill-the-clipboard';
import { ManualClock } from '../src/clock.js';
import type { GuardedFetch } from '../src/net/types.js';
import { createShcVerifier, type ShcVerifier } from '../src/shc/verify.js';
import { SHC_EXAMPLE_TIME, SHC_VECTORS, readVector } from '../test/helpers/fixtures.js';
import { cardPayload, type IssuerKey, issuerKey, signCard } from '../test/shc/card-issuer.js';
import { bestOfAlternating } from './lib/rounds.js';
import { serve } from './lib/servers.js';
import type { Bench, BenchRow } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ITERATIONS = 2_000;
const ROUNDS = 3;
const EXAMPLE_ISS = 'https://spec.smarthealth.cards/examples/issuer';

const noNetwork: GuardedFetch = async (url) => {
  throw new Error(`the bench must not fetch ${url}`);
};

const compare = (ours: () => unknown, floor: () => unknown) => bestOfAlternating(ours, floor, { rounds: ROUNDS, iterations: ITERATIONS, warmup: 200 });

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

/** The four cards both peers judge, signed now by one issuer key; unknown-issuer is signed by another key. */
interface PeerCards {
  iss: string;
  key: IssuerKey;
  now: number;
  cards: Record<'valid' | 'tampered' | 'expired' | 'unknown-issuer', string>;
}

// Port 1 on loopback: should a peer ever try to fetch this issuer's keys, it fails here, never in DNS.
async function peerCards(iss = 'https://127.0.0.1:1'): Promise<PeerCards> {
  const key = await issuerKey();
  const stranger = await issuerKey();
  const now = Date.now();
  const nbf = Math.floor(now / 1000) - 60;
  const bundle = exampleBundle();
  const card = (k: IssuerKey, over: Record<string, unknown>, fhirBundle: Bundle) =>
    signCard(k, cardPayload(iss, nbf, over, { credentialSubject: { fhirVersion: '4.0.1', fhirBundle } }));
  const valid = await card(key, {}, bundle);
  const [h, , sig] = valid.split('.');
  const other = await card(key, {}, { ...bundle, id: 'x' });
  return {
    iss,
    key,
    now,
    cards: {
      valid,
      tampered: `${h}.${other.split('.')[1]}.${sig}`,
      expired: await card(key, { nbf: nbf - 7200, exp: nbf - 3600 }, bundle),
      'unknown-issuer': await card(stranger, {}, bundle),
    },
  };
}

type Verdict = 'accept' | 'reject';

const verdict = async (f: () => Promise<unknown>): Promise<Verdict> => {
  try {
    await f();
    return 'accept';
  } catch {
    return 'reject';
  }
};

/** Our verdict beside the peer's on every card, so a speed figure never hides a disagreement. */
async function verdicts(p: PeerCards, ours: ShcVerifier, peer: (jws: string) => Promise<Verdict>): Promise<string> {
  const out: string[] = [];
  for (const [kind, jws] of Object.entries(p.cards)) {
    const a = await verdict(() => ours.verify(jws));
    const b = await peer(jws);
    out.push(`${kind}: ${a}${a === b ? '' : ` vs ${b} (DIFFERENT)`}`);
  }
  return out.join(', ');
}

function oursFor(p: PeerCards): ShcVerifier {
  return createShcVerifier({
    trust: { shcIssuers: [{ iss: p.iss, jwks: { keys: [p.key.publicJwk as Record<string, unknown>] } }], acceptUnknownShcIssuers: false },
    fetch: noNetwork,
    clock: new ManualClock(p.now),
  });
}

interface SdkResult {
  level: number;
}
interface SdkApi {
  validate: { jws(text: string, options?: { skipJwksDownload?: boolean; clearKeyStore?: boolean }): Promise<SdkResult[]>; keyset(text: string): Promise<SdkResult[]> };
}
interface SdkKeyStore {
  default: { add(key: unknown, issuer: string): Promise<unknown> };
}

/** The SDK's LogLevels.ERROR: what it reports at this level or above makes a card invalid. */
const SDK_ERROR = 3;

/** The reference validator (npm name health-cards-dev-tools), from this project's node_modules only; a string says why not. */
function loadSdk(): { sdk: SdkApi; keys: SdkKeyStore } | string {
  const dir = path.join(ROOT, 'node_modules/health-cards-dev-tools');
  if (!existsSync(path.join(dir, 'package.json'))) return 'health-cards-validation-SDK (health-cards-dev-tools) is not in node_modules; bench/README.md says how to add it';
  const require = createRequire(path.join(ROOT, 'package.json'));
  try {
    return { sdk: require(path.join(dir, 'js/src/api.js')) as SdkApi, keys: require(path.join(dir, 'js/src/keys.js')) as SdkKeyStore };
  } catch (e) {
    return `the SDK in node_modules did not load (${(e as Error).message.split('\n')[0]})`;
  }
}

/**
 * An SHC issuer on loopback HTTPS serving its key set with the CORS header the SDK checks. Its
 * certificate, self-signed for 127.0.0.1, is trusted through the global HTTPS agent (which the
 * SDK's HTTP client uses) until close.
 */
async function loopbackHttpsIssuer(jwks: () => unknown): Promise<{ iss: string; close(): Promise<void> }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: alg,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pem = cert.toString('pem');
  const key = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  const host = await serve(
    (req: IncomingMessage, res: ServerResponse) => {
      if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify(jwks()));
    },
    { cert: pem, key },
  );
  const agent = httpsGlobalAgent.options;
  const before = agent.ca;
  agent.ca = pem;
  return {
    iss: host.url,
    close: () => {
      if (before === undefined) delete agent.ca;
      else agent.ca = before;
      return host.close();
    },
  };
}

async function sdkComparison(name: string, p: PeerCards, judge: (jws: string) => Promise<SdkResult[]>, how: string, goal?: string): Promise<BenchRow> {
  const ours = oursFor(p);
  const agree = await verdicts(p, ours, async (jws) => ((await judge(jws)).some((r) => r.level >= SDK_ERROR) ? 'reject' : 'accept'));
  const r = await compare(
    () => ours.verify(p.cards.valid),
    () => judge(p.cards.valid),
  );
  return { name, ...r, unit: 'verifications/s', higherIsBetter: true, ...(goal ? { goal } : {}), note: `floor is the SDK, ${how} (errors reject); verdicts ${agree}` };
}

const SDK_PRELOADED = 'SHC verify vs health-cards-validation-SDK validate.jws, keys preloaded (same card)';
const SDK_DOCUMENTED = 'SHC verify vs health-cards-validation-SDK validate.jws, key set downloaded per card as it does by default (same card)';

const sdkSkipped = (name: string, note: string): BenchRow => ({ name, value: 0, floor: 0, unit: 'verifications/s', higherIsBetter: true, note });

/**
 * Like for like with ours: the key set checked with validate.keyset and bound to the issuer as the
 * SDK's own download would bind it, and downloads off.
 */
async function sdkPreloadedRow({ sdk, keys }: { sdk: SdkApi; keys: SdkKeyStore }, p: PeerCards): Promise<BenchRow> {
  const keyErrors = (await sdk.validate.keyset(JSON.stringify({ keys: [p.key.publicJwk] }))).filter((r) => r.level >= SDK_ERROR).length;
  if (keyErrors > 0) return sdkSkipped(SDK_PRELOADED, `skipped: the SDK refused the issuer key (${keyErrors} error(s))`);
  await keys.default.add(p.key.publicJwk, p.iss);
  return sdkComparison(SDK_PRELOADED, p, (jws) => sdk.validate.jws(jws, { skipJwksDownload: true }), 'keys preloaded, downloads off, it also schema-checks the bundle', '>= 10');
}

/**
 * validate.jws as its README shows it, which downloads the issuer's key set for every card. The
 * one option set, clearKeyStore, keeps the cost per card steady: without it each download adds
 * another copy of the key to the SDK's store, and every later card scans them all.
 */
async function sdkDocumentedRow(sdk: SdkApi): Promise<BenchRow> {
  let served: unknown;
  const issuer = await loopbackHttpsIssuer(() => served);
  try {
    const p = await peerCards(issuer.iss);
    served = { keys: [p.key.publicJwk] };
    return await sdkComparison(
      SDK_DOCUMENTED,
      p,
      (jws) => sdk.validate.jws(jws, { clearKeyStore: true }),
      'a key-set download per card from a loopback HTTPS issuer, clearKeyStore so the cost per card stays steady',
    );
  } finally {
    await issuer.close();
  }
}

async function sdkRows(p: PeerCards): Promise<BenchRow[]> {
  const loaded = loadSdk();
  if (typeof loaded === 'string') return [sdkSkipped(SDK_PRELOADED, `skipped: ${loaded}`), sdkSkipped(SDK_DOCUMENTED, `skipped: ${loaded}`)];
  return [await sdkPreloadedRow(loaded, p), await sdkDocumentedRow(loaded.sdk)];
}

/**
 * Ours against kill-the-clipboard's SHCReader (what a TypeScript integrator would otherwise pick),
 * on the same cards. SHCReader is given the issuer's key directly (no directory).
 */
async function killTheClipboardRow(p: PeerCards): Promise<BenchRow> {
  const name = 'SHC verify per card vs kill-the-clipboard SHCReader.fromJWS (same card)';
  const reader = new SHCReader({ publicKey: p.key.publicJwk as JsonWebKey, verifyExpiration: true, useVciDirectory: false });
  const ours = oursFor(p);
  const agree = await verdicts(p, ours, (jws) => verdict(() => reader.fromJWS(jws)));
  const r = await compare(
    () => ours.verify(p.cards.valid),
    () => reader.fromJWS(p.cards.valid),
  );
  return { name, ...r, unit: 'verifications/s', higherIsBetter: true, goal: '>= 5', note: `floor is SHCReader; verdicts ${agree}` };
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
    const cards = await peerCards();
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
      await killTheClipboardRow(cards),
      ...(await sdkRows(cards)),
    ];
  },
};
