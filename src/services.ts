import { AuditService } from './audit/audit.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/db.js';
import { listMigrations, migrate } from './db/migrate.js';
import { openDb } from './db/open.js';
import { createCpuPool, type CpuPool } from './cpu/pool.js';
import { configureThreadValidator, lazyValidator } from './cpu/thread-validator.js';
import { loadFhirPackages } from './fhir/packages.js';
import type { FhirValidator } from './fhir/validator.js';
import { admission, type Admissions } from './limits/admission.js';
import { createAuthenticator } from './identity/authenticator.js';
import type { Authenticator } from './identity/types.js';
import { KeyStore } from './keys/keystore.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createGuardedFetch } from './net/guarded-fetch.js';
import type { GuardedFetch } from './net/types.js';
import { ShlHost } from './shl/host.js';

/** Everything routes and workers use, built once by main.ts (tests build their own). */
export interface Services {
  config: Config;
  clock: Clock;
  db: Db;
  log: Logger;
  metrics: Metrics;
  keys: KeyStore;
  audit: AuditService;
  /** This thread's validator, loaded on first use; request validation goes through `cpu`. */
  fhir: FhirValidator;
  /** Worker threads for validation, decryption and inflation (src/cpu/tasks.ts). */
  cpu: CpuPool;
  /** In-flight bounds per route class (503 + Retry-After past them). */
  admit: Admissions;
  auth: Authenticator;
  /** The only way to reach other hosts (SSRF-guarded). */
  fetch: GuardedFetch;
  /** SMART Health Links the gateway hosts (visit summaries). */
  shl: ShlHost;
  /** Names of the migrations this build expects applied (readiness). */
  migrations: string[];
}

export interface ServiceOverrides {
  clock?: Clock;
  db?: Db;
  log?: Logger;
  metrics?: Metrics;
}

/** Opens the database, applies migrations and prepares keys, validator and authenticator. */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const log = overrides.log ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics({ defaultMetrics: true });
  const db = overrides.db ?? (await openDb(config));
  const migrations = listMigrations();
  await migrate(db, migrations);
  const keys = new KeyStore(db, config.keyEncryptionKey);
  await keys.init();
  // Loaded here too, so a bad package stops the start with its name (the threads load their own copy).
  const packages = config.fhirPackagesDir ? loadFhirPackages(config.fhirPackagesDir) : undefined;
  if (packages) log.info({ packages: packages.packages, profiles: packages.profiles.size, valueSets: packages.valueSets.size }, 'FHIR packages loaded');
  configureThreadValidator({ packages });
  const fhir = lazyValidator();
  const { limits } = config;
  const cpu = createCpuPool({
    threads: limits.cpuThreads,
    idleMs: limits.cpuIdleMs,
    maxIssues: limits.maxIssues,
    // Generous: a cold thread loads its definitions first; only a stuck task gets this far.
    hardTimeoutMs: Math.max(60_000, 10 * limits.validationBudgetMs),
    packagesDir: config.fhirPackagesDir,
  });
  const fetch = createGuardedFetch({ allowlist: config.trust.outboundAllowlist });
  const auth = createAuthenticator({ config, db, keys, clock, log, fetch });
  return {
    config,
    clock,
    db,
    log,
    metrics,
    keys,
    audit: new AuditService(db),
    fhir,
    cpu,
    admit: { checkin: admission(limits.maxInflight.checkin), write: admission(limits.maxInflight.write) },
    auth,
    fetch,
    shl: new ShlHost({ db, clock, publicBaseUrl: config.publicBaseUrl }),
    migrations: migrations.map((m) => m.name),
  };
}
