import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AGREEMENT_PURPOSES } from './identity/purpose-of-use.js';

/**
 * Every setting of the gateway, read and validated once. Nothing else reads process.env:
 * main.ts calls loadConfig() and passes the result down.
 */

const jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

const assuranceRule = z
  .object({
    acr: z.array(z.string()).optional(),
    /** Each inner array is a set of methods that must all appear in the token's `amr`. */
    amr: z.array(z.array(z.string()).min(1)).optional(),
    /** OpenID Connect for Identity Assurance: verified_claims.verification values that prove the level. */
    verifiedClaims: z.array(z.object({ trustFramework: z.string(), assuranceLevel: z.string().optional() })).optional(),
  })
  .strict();

const identityProvider = z
  .object({
    issuer: z.string().url(),
    audience: z.string().min(1),
    jwksUri: z.string().url().optional(),
    assurance: z.object({ ial2: assuranceRule, aal2: assuranceRule }).strict(),
  })
  .strict();

const client = z
  .object({
    clientId: z.string().min(1),
    organization: z.string().min(1),
    jwks: jwks.optional(),
    jwksUri: z.string().url().optional(),
    scopes: z.array(z.string().min(1)),
  })
  .strict()
  .refine((c) => Boolean(c.jwks) !== Boolean(c.jwksUri), {
    message: 'exactly one of jwks or jwksUri is required',
    path: ['jwks'],
  });

const shcIssuer = z
  .object({
    iss: z.string().url(),
    jwks: jwks.optional(),
    /** Fetch `<iss>/.well-known/jwks.json` instead of (or in addition to) inline keys. */
    fetchJwks: z.boolean().optional(),
    name: z.string().optional(),
  })
  .strict();

const pemCertificate = z.string().refine((pem) => {
  try {
    return pem.includes('-----BEGIN CERTIFICATE-----') && Boolean(new X509Certificate(pem).subject);
  } catch {
    return false;
  }
}, 'must be one X.509 certificate in PEM');

/** An IACA root in PEM; the object form sets the assurance an mDL under it proves (default: the `mdl` levels). */
const mdlTrustAnchor = z.union([
  pemCertificate,
  z
    .object({
      certificate: pemCertificate,
      ial: z.number().int().min(1).max(3).optional(),
      aal: z.number().int().min(1).max(3).optional(),
    })
    .strict(),
]);

/** ISO 18013-5 mDLs presented over OpenID4VP (Digital Credentials API). */
const mdl = z
  .object({
    trustAnchors: z.array(mdlTrustAnchor).min(1),
    ial: z.number().int().min(1).max(3).default(2),
    aal: z.number().int().min(1).max(3).default(2),
    /** base64url of ≥ 32 random bytes keying the document-number hash; unset = generated once and kept in the database. */
    subjectSalt: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43,}$/, 'must be at least 43 base64url characters (32 bytes)')
      .optional(),
    /** Ask for `dc_api.jwt`: the wallet encrypts its answer to an ephemeral key of the request (OpenID4VP 1.0 §8.3). */
    encryptResponses: z.boolean().optional(),
  })
  .strict();

/** A data-sharing agreement: `from` lets `to` receive its patients' events for these purposes of use. */
const dataSharing = z
  .object({
    from: z.string().min(1),
    to: z.string().min(1),
    purposes: z.array(z.enum(AGREEMENT_PURPOSES)).min(1),
  })
  .strict();

export const trustFileSchema = z
  .object({
    identityProviders: z.array(identityProvider).default([]),
    clients: z.array(client).default([]),
    shcIssuers: z.array(shcIssuer).default([]),
    /** Accept (and record as unverified) cards signed by issuers not listed in shcIssuers. */
    acceptUnknownShcIssuers: z.boolean().default(false),
    outboundAllowlist: z.array(z.string().min(1)).default([]),
    mdl: mdl.optional(),
    dataSharing: z.array(dataSharing).default([]),
  })
  .strict()
  .superRefine((t, ctx) => {
    // Organizations exist only as the clients registered for them; an agreement naming another is a typo.
    const known = new Set(t.clients.map((c) => c.organization));
    t.dataSharing.forEach((a, i) => {
      for (const side of ['from', 'to'] as const) {
        if (!known.has(a[side])) ctx.addIssue({ code: 'custom', path: ['dataSharing', i, side], message: `"${a[side]}" is not the organization of any registered client` });
      }
      if (a.from === a.to) ctx.addIssue({ code: 'custom', path: ['dataSharing', i, 'to'], message: 'an organization needs no agreement with itself' });
    });
  });

export type TrustConfig = z.infer<typeof trustFileSchema>;
export type IdentityProviderConfig = z.infer<typeof identityProvider>;
export type AssuranceRule = z.infer<typeof assuranceRule>;
export type ClientConfig = z.infer<typeof client>;
export type ShcIssuerConfig = z.infer<typeof shcIssuer>;
export type MdlConfig = z.infer<typeof mdl>;
export type DataSharingAgreement = z.infer<typeof dataSharing>;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_BASE_URL: z.string().url().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  CONFIG_FILE: z.string().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-4-5'),
  /** Deadline of one Claude call, SDK retries included; a summary makes at most three calls. */
  ANTHROPIC_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** base64url of 32 bytes; when set, the gateway's private signing keys are AES-256-GCM encrypted at rest. */
  KEY_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 43 base64url characters (32 bytes)')
    .optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  CHECKIN_SESSION_TTL_SECONDS: z.coerce.number().int().positive().default(600),
  /** Background workers (notification delivery); tests that drive the worker by hand turn them off. */
  WORKERS: z.enum(['on', 'off']).default('on'),
  /** Folder of FHIR NPM packages (.tgz): their profiles and value sets take precedence over the authored ones. */
  FHIR_PACKAGES_DIR: z.string().min(1).optional(),
  /** Resources one check-in or visit document may carry; more is refused before any validation. */
  MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
  /** Issues one OperationOutcome lists; one more issue says how many were left out. */
  MAX_ISSUES: z.coerce.number().int().positive().default(100),
  /** CPU time one request's validation may take before it is refused as too complex (422). */
  VALIDATION_BUDGET_MS: z.coerce.number().int().positive().default(1500),
  /** Worker threads for validation, decryption and inflation; 0 runs that work on the event loop. */
  CPU_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  /** A worker thread idle this long exits (its FHIR definitions with it); the next task starts one. */
  CPU_IDLE_MS: z.coerce.number().int().min(0).default(60_000),
  /** In-flight requests per route class before new ones get 503 + Retry-After. */
  MAX_INFLIGHT_CHECKINS: z.coerce.number().int().positive().optional(),
  MAX_INFLIGHT_WRITES: z.coerce.number().int().positive().optional(),
  /** PostgreSQL connections (DATABASE_URL only); by default sized from the in-flight limits. */
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().optional(),
});

/** Where and how much work a request may cause (issue 15); see README "Load and limits". */
export interface WorkLimits {
  maxEntries: number;
  maxIssues: number;
  validationBudgetMs: number;
  /** Inflated size of a card payload or SHL file, never above the request body limit. */
  maxInflatedBytes: number;
  cpuThreads: number;
  cpuIdleMs: number;
  maxInflight: { checkin: number; write: number };
  databasePoolSize: number;
}

export interface Config {
  port: number;
  publicBaseUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  anthropic: { apiKey: string | undefined; baseUrl: string | undefined; model: string; timeoutMs: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  keyEncryptionKey: string | undefined;
  bodyLimitBytes: number;
  checkinSessionTtlSeconds: number;
  workers: boolean;
  fhirPackagesDir: string | undefined;
  limits: WorkLimits;
  trust: TrustConfig;
}

export class ConfigError extends Error {}

function describeZodError(source: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${source} is invalid:\n${lines.join('\n')}`;
}

export function parseTrustFile(text: string, fileName: string): TrustConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${fileName} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = trustFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeZodError(fileName, parsed.error));
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describeZodError('environment', parsed.error));
  const e = parsed.data;
  let trust: TrustConfig = trustFileSchema.parse({});
  if (e.CONFIG_FILE) {
    let text: string;
    try {
      text = readFileSync(path.resolve(e.CONFIG_FILE), 'utf8');
    } catch (err) {
      throw new ConfigError(`CONFIG_FILE ${e.CONFIG_FILE} cannot be read: ${(err as Error).message}`);
    }
    trust = parseTrustFile(text, `CONFIG_FILE ${e.CONFIG_FILE}`);
  }
  return {
    port: e.PORT,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL, model: e.ANTHROPIC_MODEL, timeoutMs: e.ANTHROPIC_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    keyEncryptionKey: e.KEY_ENCRYPTION_KEY,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    checkinSessionTtlSeconds: e.CHECKIN_SESSION_TTL_SECONDS,
    workers: e.WORKERS === 'on',
    fhirPackagesDir: e.FHIR_PACKAGES_DIR,
    limits: workLimits(e),
    trust,
  };
}

/**
 * Defaults scale with the cores: one validation thread per core; check-ins in flight bounded to
 * what those threads finish in about a second (a 50-entry check-in takes ~20 ms of CPU), the rest
 * shed early; PostgreSQL connections enough for every admitted check-in to hold one at once.
 */
function workLimits(e: z.infer<typeof envSchema>): WorkLimits {
  const cores = os.availableParallelism();
  const cpuThreads = e.CPU_THREADS ?? cores;
  const checkin = e.MAX_INFLIGHT_CHECKINS ?? 64 * Math.max(1, cpuThreads);
  const write = e.MAX_INFLIGHT_WRITES ?? 64 * Math.max(1, cpuThreads);
  return {
    maxEntries: e.MAX_ENTRIES,
    maxIssues: e.MAX_ISSUES,
    validationBudgetMs: e.VALIDATION_BUDGET_MS,
    maxInflatedBytes: e.BODY_LIMIT_BYTES,
    cpuThreads,
    cpuIdleMs: e.CPU_IDLE_MS,
    maxInflight: { checkin, write },
    databasePoolSize: e.DATABASE_POOL_SIZE ?? Math.min(50, Math.max(10, 4 * Math.max(1, cpuThreads) + 2)),
  };
}
