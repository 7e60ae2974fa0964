import type { Request, Response } from 'express';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { loadConfig, trustFileSchema, type Config } from '../src/config.js';
import { openPglite } from '../src/db/pglite.js';
import { requirePatient } from '../src/http/guards.js';
import { PATIENT_TOKEN_ALGORITHMS, PATIENT_TOKEN_SKEW_SECONDS } from '../src/identity/patient-token.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/ops/metrics.js';
import { createServices } from '../src/services.js';
import { patientClaims, startIdp } from '../test/helpers/idp.js';
import { bestOfAlternating } from './lib/rounds.js';
import type { Bench, BenchRow } from './types.js';

const TOKENS = 64;
const ITERATIONS = 2_000;
const ROUNDS = 3;

/**
 * Patient-token middleware throughput (requirePatient, in process, JWKS cached) against a bare
 * jose.jwtVerify loop over the same tokens and a local JWKS. Rounds alternate; the best of each counts.
 */
export const bench: Bench = {
  name: 'identity',
  async run(): Promise<BenchRow[]> {
    const idp = await startIdp();
    const db = await openPglite('memory:');
    try {
      const base = loadConfig({ DATA_DIR: 'memory:', LOG_LEVEL: 'silent', WORKERS: 'off' });
      const config: Config = { ...base, trust: trustFileSchema.parse({ identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] }) };
      const services = await createServices(config, { db, log: createLogger('silent'), metrics: createMetrics() });
      const guard = requirePatient(services.auth);
      const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => idp.token({ ...patientClaims(), sub: `bench-${i}` }, { expiresIn: 3600 })));
      const jwks = createLocalJWKSet((await (await fetch(idp.jwksUri)).json()) as JSONWebKeySet);

      const middleware = async (i: number) => {
        const req = { get: () => `Bearer ${tokens[i % TOKENS]}` } as unknown as Request;
        const res = { locals: {} } as unknown as Response;
        let passed = false;
        await guard(req, res, () => {
          passed = true;
        });
        if (!passed) throw new Error('the guard refused a valid token');
      };
      const bare = async (i: number) => {
        await jwtVerify(tokens[i % TOKENS] as string, jwks, {
          issuer: idp.issuer,
          audience: idp.audience,
          algorithms: PATIENT_TOKEN_ALGORITHMS,
          clockTolerance: PATIENT_TOKEN_SKEW_SECONDS,
        });
      };

      // The warm-up fetches the JWKS and imports the keys on both paths.
      const r = await bestOfAlternating(middleware, bare, { rounds: ROUNDS, iterations: ITERATIONS, warmup: TOKENS });
      return [
        {
          name: 'identity: requirePatient vs bare jose.jwtVerify (ES256, cached JWKS)',
          ...r,
          unit: 'verifications/s',
          higherIsBetter: true,
          goal: '>= 0.9',
          note: `${TOKENS} distinct tokens, ${ROUNDS} alternating rounds of ${ITERATIONS}, best of each`,
        },
      ];
    } finally {
      await db.close();
      await idp.close();
    }
  },
};
