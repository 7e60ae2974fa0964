import type { Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { DomainError } from '../errors.js';
import { FHIR_VERSION } from '../fhir/version.js';
import { outboundFailure } from '../net/outbound-errors.js';
import { OutboundError, type GuardedFetch, type OutboundRequest, type OutboundResponse } from '../net/types.js';
import { DEFAULT_MAX_PLAINTEXT_BYTES, decryptFile, keyBytes } from './jwe.js';
import { FHIR_TYPE, SHC_TYPE } from './constants.js';
import { assertNotExpired, hasFlag, type ShLink } from './link.js';
import type { ShlMetrics } from './metrics.js';

/**
 * The receiving side of SMART Health Links (check-in): fetch the manifest (or the single U-flag
 * file) through the SSRF-guarded fetch, fetch or take each file, decrypt with the link's key and
 * hand back the SHC and FHIR files. Failures (src/http/errors.ts gives each its HTTP answer):
 * - link expired (`exp`) → ERR_SHL_EXPIRED, P flag without a passcode → ERR_SHL_PASSCODE_REQUIRED, both before any request
 * - host 401 → ERR_SHL_PASSCODE with `remainingAttempts`
 * - host 404 on the manifest or U-flag URL → ERR_SHL_INACTIVE (the link is no longer active)
 * - host 429 → ERR_SHL_HOST_THROTTLED with its Retry-After; other host statuses, bad manifests, a listed file not served → ERR_SHL_HOST_ANSWER
 * - outbound refusals and failures → outboundFailure (ERR_OUTBOUND_*)
 * - a file that does not decrypt, or whose `cty` contradicts the manifest → ERR_SHL_FILE; inflated too large (one file, or all of them together) → ERR_SHL_FILE_LIMIT
 */

export { FHIR_TYPE, SHC_TYPE };

export interface RetrieveOptions {
  /** Who is asking, shown to the sharer (required by the protocol). */
  recipient: string;
  passcode?: string;
  embeddedLengthMax?: number;
}

export interface ReceiverLimits {
  timeoutMs: number;
  manifestMaxBytes: number;
  /** Largest JWE accepted, embedded or fetched. */
  fileMaxBytes: number;
  /** Largest (inflated) plaintext, of one file and of all the link's files together. */
  plaintextMaxBytes: number;
  maxFiles: number;
}

export const DEFAULT_RECEIVER_LIMITS: ReceiverLimits = {
  timeoutMs: 10_000,
  manifestMaxBytes: 1024 * 1024,
  fileMaxBytes: 5 * 1024 * 1024,
  plaintextMaxBytes: DEFAULT_MAX_PLAINTEXT_BYTES,
  maxFiles: 20,
};

export interface ShlReceiverDeps {
  fetch: GuardedFetch;
  clock: Clock;
  metrics?: ShlMetrics;
  limits?: Partial<ReceiverLimits>;
  /** Decrypts one file; by default in-process, the check-in gives the worker pool's. */
  decrypt?: typeof decryptFile;
}

interface FileMeta {
  lastUpdated?: string;
  status?: string;
}

export type ShlFile =
  | ({ contentType: typeof SHC_TYPE; content: string; verifiableCredential: string[] } & FileMeta)
  | ({ contentType: typeof FHIR_TYPE; content: string; resource: Resource; fhirVersion: string } & FileMeta);

export interface ShlRetrieval {
  files: ShlFile[];
  /** Files of other content types (e.g. application/smart-api-access), not processed. */
  unsupported: { contentType: string }[];
  /** Origin of the link's URL: the SHL host, recorded as the source. */
  host: string;
}

const manifestSchema = z.object({
  files: z.array(
    z
      .object({
        contentType: z.string().min(1).max(200),
        location: z.string().min(1).max(2048).optional(),
        embedded: z.string().min(1).optional(),
        lastUpdated: z.string().max(64).optional(),
        status: z.string().max(64).optional(),
        fhirVersion: z.string().max(32).optional(),
      })
      .refine((f) => f.location !== undefined || f.embedded !== undefined),
  ),
});
type ManifestFile = z.infer<typeof manifestSchema>['files'][number];

interface EncryptedFile extends FileMeta {
  jwe: string;
  contentType?: string;
  fhirVersion?: string;
}

function passcodeRefused(remaining: number | undefined): DomainError {
  const known = remaining !== undefined;
  return new DomainError('ERR_SHL_PASSCODE', `The SHL host refused the passcode${known ? `; ${remaining} attempt${remaining === 1 ? '' : 's'} remain` : ''}`, {
    expression: ['passcode'],
    ...(known ? { data: { remainingAttempts: remaining } } : {}),
  });
}

async function send(deps: ShlReceiverDeps, url: string, req: OutboundRequest, what: string): Promise<OutboundResponse> {
  try {
    return await deps.fetch(url, req);
  } catch (e) {
    throw e instanceof OutboundError ? outboundFailure(e, what, 'caller') : e;
  }
}

function hostStatus(res: OutboundResponse, what: string): DomainError {
  if (res.status === 404) return new DomainError('ERR_SHL_INACTIVE', 'The SMART Health Link is no longer active (the host answered 404)', { expression: ['shlink'] });
  if (res.status === 429) {
    const retryAfter = res.headers['retry-after'];
    return new DomainError(
      'ERR_SHL_HOST_THROTTLED',
      'The SHL host asks to retry later',
      retryAfter && /^\d{1,6}$/.test(retryAfter) ? { data: { retryAfterSeconds: retryAfter } } : {},
    );
  }
  return new DomainError('ERR_SHL_HOST_ANSWER', `${what} answered HTTP ${res.status}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function manifestFiles(link: ShLink, opts: RetrieveOptions, deps: ShlReceiverDeps, limits: ReceiverLimits): Promise<EncryptedFile[]> {
  const body = {
    recipient: opts.recipient,
    ...(hasFlag(link, 'P') ? { passcode: opts.passcode } : {}),
    ...(opts.embeddedLengthMax !== undefined ? { embeddedLengthMax: opts.embeddedLengthMax } : {}),
  };
  const res = await send(
    deps,
    link.url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: limits.timeoutMs,
      maxBytes: limits.manifestMaxBytes,
    },
    'SHL manifest',
  );
  if (res.status === 401) {
    const remaining = (parseJson(res.body.toString('utf8')) as { remainingAttempts?: unknown } | undefined)?.remainingAttempts;
    throw passcodeRefused(typeof remaining === 'number' && Number.isInteger(remaining) && remaining >= 0 ? remaining : undefined);
  }
  if (res.status !== 200) throw hostStatus(res, 'SHL manifest');
  const parsed = manifestSchema.safeParse(parseJson(res.body.toString('utf8')));
  if (!parsed.success) throw new DomainError('ERR_SHL_HOST_ANSWER', 'The SHL host sent a manifest that is not valid');
  if (parsed.data.files.length > limits.maxFiles) throw new DomainError('ERR_SHL_HOST_ANSWER', `The SHL manifest lists more than ${limits.maxFiles} files`);
  return Promise.all(parsed.data.files.map((f) => fileOf(f, res.url, deps, limits)));
}

async function fileOf(f: ManifestFile, manifestUrl: string, deps: ShlReceiverDeps, limits: ReceiverLimits): Promise<EncryptedFile> {
  const meta = {
    contentType: f.contentType,
    ...(f.lastUpdated !== undefined ? { lastUpdated: f.lastUpdated } : {}),
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.fhirVersion !== undefined ? { fhirVersion: f.fhirVersion } : {}),
  };
  // The model allows both; the embedded copy saves a request.
  if (f.embedded !== undefined) return { ...meta, jwe: f.embedded };
  let location: string;
  try {
    location = new URL(f.location ?? '', manifestUrl).href;
  } catch {
    throw new DomainError('ERR_SHL_HOST_ANSWER', 'The SHL manifest lists a file location that is not a URL');
  }
  const res = await getJwe(location, deps, limits, 'SHL file');
  // The manifest just listed it: a host that will not serve it now is failing, not revoking.
  if (res.status !== 200) throw new DomainError('ERR_SHL_HOST_ANSWER', `SHL file answered HTTP ${res.status}`);
  return { ...meta, jwe: res.body.toString('utf8') };
}

function getJwe(url: string, deps: ShlReceiverDeps, limits: ReceiverLimits, what: string): Promise<OutboundResponse> {
  return send(deps, url, { method: 'GET', headers: { accept: 'application/jose' }, timeoutMs: limits.timeoutMs, maxBytes: limits.fileMaxBytes }, what);
}

async function directFile(link: ShLink, opts: RetrieveOptions, deps: ShlReceiverDeps, limits: ReceiverLimits): Promise<EncryptedFile> {
  const url = new URL(link.url);
  url.searchParams.set('recipient', opts.recipient);
  const res = await getJwe(url.href, deps, limits, 'SHL direct file');
  if (res.status !== 200) throw hostStatus(res, 'SHL direct file');
  return { jwe: res.body.toString('utf8') };
}

type JsonObject = Record<string, unknown> | undefined;

/** The content type when neither the manifest nor the JWE names one (older U-flag files). */
function inferType(json: JsonObject): string | undefined {
  if (Array.isArray(json?.verifiableCredential)) return SHC_TYPE;
  if (typeof json?.resourceType === 'string') return FHIR_TYPE;
  return undefined;
}

function classify(file: EncryptedFile, contentType: string, content: string, json: JsonObject): ShlFile | { unsupported: string } {
  const meta = { ...(file.lastUpdated ? { lastUpdated: file.lastUpdated } : {}), ...(file.status ? { status: file.status } : {}) };
  if (contentType === SHC_TYPE) {
    const vc = json?.verifiableCredential;
    if (!Array.isArray(vc) || vc.length === 0 || !vc.every((x) => typeof x === 'string')) {
      throw new DomainError('ERR_SHL_FILE', 'An SHL file of type application/smart-health-card is not a SMART Health Card file');
    }
    return { contentType, content, verifiableCredential: vc as string[], ...meta };
  }
  if (contentType === FHIR_TYPE) {
    if (typeof json?.resourceType !== 'string') throw new DomainError('ERR_SHL_FILE', 'An SHL file of type application/fhir+json is not a FHIR resource');
    return { contentType, content, resource: json as unknown as Resource, fhirVersion: file.fhirVersion ?? FHIR_VERSION, ...meta };
  }
  return { unsupported: contentType };
}

/** Fetches and decrypts every file of a parsed link; see the module comment for the errors. */
export async function retrieveShl(link: ShLink, opts: RetrieveOptions, deps: ShlReceiverDeps): Promise<ShlRetrieval> {
  try {
    const result = await retrieve(link, opts, deps);
    deps.metrics?.retrievals.inc({ outcome: 'ok' });
    return result;
  } catch (e) {
    deps.metrics?.retrievals.inc({ outcome: e instanceof DomainError ? e.code : 'error' });
    throw e;
  }
}

async function retrieve(link: ShLink, opts: RetrieveOptions, deps: ShlReceiverDeps): Promise<ShlRetrieval> {
  const limits = { ...DEFAULT_RECEIVER_LIMITS, ...deps.limits };
  assertNotExpired(link, deps.clock.now());
  // Asking without one would only burn one of the link's lifetime attempts.
  if (hasFlag(link, 'P') && !opts.passcode) throw new DomainError('ERR_SHL_PASSCODE_REQUIRED', 'This SMART Health Link needs a passcode', { expression: ['passcode'] });
  const encrypted = hasFlag(link, 'U') ? [await directFile(link, opts, deps, limits)] : await manifestFiles(link, opts, deps, limits);
  const key = keyBytes(link.key);
  const files: ShlFile[] = [];
  const unsupported: { contentType: string }[] = [];
  // Capped together too: maxFiles files at the cap each would be that many times the FHIR to
  // parse, validate and store in one request.
  let plaintextBytes = 0;
  for (const file of encrypted) {
    const plain = await (deps.decrypt ?? decryptFile)(file.jwe, key, limits.plaintextMaxBytes);
    plaintextBytes += Buffer.byteLength(plain.content, 'utf8');
    if (plaintextBytes > limits.plaintextMaxBytes)
      throw new DomainError('ERR_SHL_FILE_LIMIT', `The SMART Health Link's files inflate to more than ${limits.plaintextMaxBytes} bytes together`);
    if (plain.contentType && file.contentType && plain.contentType !== file.contentType) {
      throw new DomainError('ERR_SHL_FILE', `An SHL file is encrypted as ${plain.contentType} but listed as ${file.contentType}`);
    }
    const json = parseJson(plain.content) as JsonObject;
    const contentType = file.contentType ?? plain.contentType ?? inferType(json);
    if (!contentType) throw new DomainError('ERR_SHL_FILE', 'An SHL file has no content type');
    const c = classify(file, contentType, plain.content, json);
    if ('unsupported' in c) unsupported.push({ contentType: c.unsupported });
    else files.push(c);
  }
  return { files, unsupported, host: new URL(link.url).origin };
}
