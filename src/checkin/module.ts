import type { Module } from '../app.js';
import type { Services } from '../services.js';
import { checkinRoutes } from './routes.js';
import { createPayloadResolver } from './resolve.js';

export function checkinModule(s: Services): Module {
  return {
    router: checkinRoutes({
      services: s,
      resolve: createPayloadResolver(),
      checkin: {
        db: s.db,
        fhir: s.fhir,
        audit: s.audit,
        clock: s.clock,
        publicBaseUrl: s.config.publicBaseUrl,
        onEncounterStart: async () => undefined,
      },
    }),
  };
}
