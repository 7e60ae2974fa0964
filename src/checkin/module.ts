import { checkinProfilesCapability } from '../fhir/supported-profiles.js';
import type { Module } from '../module.js';
import { createNotifier } from '../notifications/notifier.js';
import type { Services } from '../services.js';
import { pooledShcWork } from '../cpu/shc-work.js';
import { createShcVerifier } from '../shc/verify.js';
import { shlMetrics } from '../shl/metrics.js';
import { checkinRoutes } from './routes.js';
import { createPayloadResolver } from './resolve.js';

export function checkinModule(s: Services): Module {
  const { trust } = s.config;
  return {
    capability: checkinProfilesCapability,
    router: checkinRoutes({
      services: s,
      resolve: createPayloadResolver({
        shc: createShcVerifier({
          trust,
          fetch: s.fetch,
          clock: s.clock,
          maxInflatedBytes: s.config.limits.maxInflatedBytes,
          work: pooledShcWork(s.cpu),
        }),
        cpu: s.cpu,
        maxPlaintextBytes: s.config.limits.maxInflatedBytes,
        fetch: s.fetch,
        clock: s.clock,
        allowlist: trust.outboundAllowlist,
        metrics: shlMetrics(s.metrics.registry),
      }),
      checkin: {
        db: s.db,
        cpu: s.cpu,
        limits: s.config.limits,
        audit: s.audit,
        clock: s.clock,
        publicBaseUrl: s.config.publicBaseUrl,
        onEncounterStart: createNotifier(s).onEncounterStart,
      },
    }),
  };
}
