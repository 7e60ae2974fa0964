import type { Module } from '../module.js';
import type { Services } from '../services.js';
import { summaryDeps } from '../summaries/module.js';
import { visitRoutes } from './routes.js';

export function visitsModule(s: Services): Module {
  return {
    router: visitRoutes(s, {
      db: s.db,
      cpu: s.cpu,
      fhir: s.fhir,
      limits: s.config.limits,
      audit: s.audit,
      clock: s.clock,
      keys: s.keys,
      shl: s.shl,
      summaries: summaryDeps(s),
      publicBaseUrl: s.config.publicBaseUrl,
    }),
  };
}
