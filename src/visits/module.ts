import type { Module } from '../app.js';
import type { Services } from '../services.js';
import { visitRoutes } from './routes.js';

export function visitsModule(s: Services): Module {
  return {
    router: visitRoutes(s, {
      db: s.db,
      cpu: s.cpu,
      limits: s.config.limits,
      audit: s.audit,
      clock: s.clock,
      keys: s.keys,
      shl: s.shl,
      publicBaseUrl: s.config.publicBaseUrl,
    }),
  };
}
